"""Operational alerts raised by SLA jobs for admins to acknowledge."""
