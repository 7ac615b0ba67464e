"""Payments: the gateway today; escrow, ledger and payouts build on it."""
