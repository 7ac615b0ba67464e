"""Ledger account names. Every balance is credits minus debits, so a transfer from A to B
lowers A and raises B, and all balances always sum to zero."""

GATEWAY_CLEARING = "gateway_clearing"
PLATFORM_REVENUE = "platform_revenue"
REFUNDS = "refunds"
PAYOUTS = "payouts"

ESCROW_PREFIX = "escrow:"
PAYABLE_PREFIX = "payable:"
IN_TRANSIT_PREFIX = "payout_in_transit:"
# A refund sent to the gateway and not yet reported processed: per payment, so no refund
# contends with another payment's for one balance document.
REFUND_IN_FLIGHT_PREFIX = "refund_in_flight:"
# What a recipient owes the platform (a refund after release its payable could not cover).
# It may only be zero or negative (owed); recovering more than is owed is refused.
RECEIVABLE_PREFIX = "receivable:"

# Accounts whose balance must never go below zero: money held for a payment, owed to a
# recipient, or on its way to one. The others mirror money outside the platform.
CONSTRAINED_PREFIXES = (ESCROW_PREFIX, PAYABLE_PREFIX, IN_TRANSIT_PREFIX,
                        REFUND_IN_FLIGHT_PREFIX)


def escrow(payment_id: str) -> str:
    return f"{ESCROW_PREFIX}{payment_id}"


def payable(recipient_id: str) -> str:
    return f"{PAYABLE_PREFIX}{recipient_id}"


def in_transit(recipient_id: str) -> str:
    return f"{IN_TRANSIT_PREFIX}{recipient_id}"


def refund_in_flight(payment_id: str) -> str:
    return f"{REFUND_IN_FLIGHT_PREFIX}{payment_id}"


def receivable(recipient_id: str) -> str:
    return f"{RECEIVABLE_PREFIX}{recipient_id}"


def is_constrained(account: str) -> bool:
    return account.startswith(CONSTRAINED_PREFIXES)


def is_receivable(account: str) -> bool:
    return account.startswith(RECEIVABLE_PREFIX)
