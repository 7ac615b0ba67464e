"""Suspension appeals: a suspended dealer or technician asks to be reinstated; admins decide."""
