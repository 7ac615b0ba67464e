"""Refunds after release: taken back as the release was split, the dealer's share from its
payable and the platform's from its revenue, pro rata (half-up to the paisa). What the
dealer's payable cannot cover (it was paid out meanwhile) becomes the dealer's receivable:
a debt recovered from its next payouts (`app.payouts`)."""

from dataclasses import dataclass
from typing import Any

from app.core.database import Session
from app.payments import commission, repository
from app.payments.exceptions import RefundTooLarge
from app.payments.ledger import accounts
from app.payments.ledger import service as ledger
from app.payments.models import EscrowStatus, Payment, Refund


@dataclass(frozen=True)
class AfterReleaseTake:
    updated: dict[str, Any]
    transfers: list[ledger.Transfer]
    dealer_part: int
    platform_part: int
    receivable_part: int


async def take(session: Session, payment_id: str, amount: int) -> AfterReleaseTake:
    """Count a refund after release against the payment and say where its money comes from,
    all from the payment and payable as this transaction reads them (a concurrent refund or
    payout that changes either makes the transaction retry on fresh reads)."""
    current = await repository.get_existing(payment_id, session=session)
    if current.escrow_status is not EscrowStatus.RELEASED or (
        current.amount_refunded + amount > current.amount_captured
    ):
        raise RefundTooLarge("The payment changed meanwhile or the refund is too large")
    dealer_part, platform_part = commission.refund_after_release_split(
        amount, released=current.amount_released,
        platform_share=current.commission_breakdown.platform_share,
        refunded_before=current.amount_refunded - current.refunded_from_escrow,
        platform_refunded_before=current.platform_refunded,
    )
    payable = accounts.payable(current.payee_id)
    available = max(await ledger.cached_balance(payable, session), 0)
    from_payable = min(available, dealer_part)
    receivable_part = dealer_part - from_payable
    updated = await repository.take_refund_after_release(session, current, amount, platform_part)
    if updated is None:
        raise RefundTooLarge("The payment changed meanwhile or the refund is too large")
    in_flight = accounts.refund_in_flight(current.id)
    transfers = [
        ledger.Transfer(payable, in_flight, from_payable),
        ledger.Transfer(accounts.receivable(current.payee_id), in_flight, receivable_part),
        ledger.Transfer(accounts.PLATFORM_REVENUE, in_flight, platform_part),
    ]
    return AfterReleaseTake(updated, [t for t in transfers if t.amount > 0], dealer_part,
                            platform_part, receivable_part)


async def give_back_transfers(
    session: Session, record: Refund, payment: Payment
) -> list[ledger.Transfer]:
    """The reversal of a failed refund after release: each part back where it came from; the
    dealer's debt is cancelled only as far as it is still owed (a payout may have recovered
    it meanwhile), and the rest goes back to its payable."""
    assert record.in_flight_account is not None
    payable = accounts.payable(payment.payee_id)
    receivable = accounts.receivable(payment.payee_id)
    owed = max(-await ledger.cached_balance(receivable, session), 0)
    to_receivable = min(record.receivable_part, owed)
    to_payable = record.amount - record.platform_part - to_receivable
    transfers = [
        ledger.Transfer(record.in_flight_account, payable, to_payable),
        ledger.Transfer(record.in_flight_account, receivable, to_receivable),
        ledger.Transfer(record.in_flight_account, accounts.PLATFORM_REVENUE, record.platform_part),
    ]
    return [t for t in transfers if t.amount > 0]
