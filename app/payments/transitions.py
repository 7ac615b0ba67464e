"""The payments state table: escrow actions, and how refunds move a payment's statuses."""

from app.payments.exceptions import IllegalEscrowTransition
from app.payments.models import EscrowStatus, Payment, PaymentStatus, RefundStatus

# The escrow state machine: action → (from which states, to which state). Refunds and
# releases also need money left; those checks sit with the use cases.
ESCROW_TRANSITIONS: dict[str, tuple[frozenset[EscrowStatus], EscrowStatus]] = {
    "hold": (frozenset({EscrowStatus.HELD}), EscrowStatus.ON_HOLD),
    "unhold": (frozenset({EscrowStatus.ON_HOLD}), EscrowStatus.HELD),
    "dispute": (frozenset({EscrowStatus.HELD, EscrowStatus.ON_HOLD}), EscrowStatus.DISPUTED),
    "release": (frozenset({EscrowStatus.HELD}), EscrowStatus.RELEASED),
    "resolve_release": (frozenset({EscrowStatus.DISPUTED}), EscrowStatus.RELEASED),
}
# Escrow states that still hold money (a refund from them comes out of escrow).
HOLDING = frozenset({EscrowStatus.HELD, EscrowStatus.ON_HOLD, EscrowStatus.DISPUTED})
REFUNDABLE_ESCROW = HOLDING
# Payment states a refund may be taken from.
REFUNDABLE_PAYMENT = frozenset({PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED})
# Payment states a capture may still be applied to.
CAPTURABLE = frozenset({PaymentStatus.CREATED, PaymentStatus.FAILED})
# Payments that count as the payable's one open payment.
OPEN_STATUSES = frozenset({PaymentStatus.CREATED, PaymentStatus.CAPTURED,
                           PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED})
# A refund is settled (processed) or reversed (failed) only while it is pending.
REFUND_TRANSITIONS: dict[str, tuple[RefundStatus, RefundStatus]] = {
    "settle": (RefundStatus.PENDING, RefundStatus.PROCESSED),
    "reverse": (RefundStatus.PENDING, RefundStatus.FAILED),
}


def check_escrow(action: str, payment: Payment) -> EscrowStatus:
    """The escrow state `action` leads to, or 409 when the escrow's state forbids it."""
    sources, target = ESCROW_TRANSITIONS[action]
    if payment.escrow_status not in sources:
        raise IllegalEscrowTransition(
            f"Cannot {action.replace('_', ' ')}: the escrow is {payment.escrow_status.value}",
            {"escrowStatus": payment.escrow_status.value,
             "allowedActions": [a for a, (s, _) in ESCROW_TRANSITIONS.items()
                                if payment.escrow_status in s]},
        )
    return target


def held_amount(payment: Payment) -> int:
    """What the payment's escrow still holds, in paise."""
    return payment.amount_captured - payment.refunded_from_escrow - payment.amount_released


def statuses_after_refunds(doc: dict[str, object]) -> dict[str, object]:
    """The payment and escrow statuses a payment document's refunded amounts imply."""
    captured, refunded = int(doc["amount_captured"]), int(doc["amount_refunded"])  # type: ignore[call-overload]
    held = captured - int(doc["refunded_from_escrow"]) - int(doc["amount_released"])  # type: ignore[call-overload]
    status = (PaymentStatus.CAPTURED if refunded == 0 else
              PaymentStatus.REFUNDED if refunded >= captured else PaymentStatus.PARTIALLY_REFUNDED)
    update: dict[str, object] = {"status": status.value}
    if doc["escrow_status"] in {s.value for s in HOLDING} and held == 0:
        update["escrow_status"] = EscrowStatus.REFUNDED.value
    elif doc["escrow_status"] == EscrowStatus.REFUNDED.value and held > 0:
        update["escrow_status"] = EscrowStatus.HELD.value
    return update
