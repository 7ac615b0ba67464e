"""Payouts: recipients' bank accounts, payouts of their payable balance, and the batch job."""
