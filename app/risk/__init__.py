"""Fraud checks: rules scored against settings, run by the domains that hold their inputs."""
