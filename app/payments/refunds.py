"""Refunds to the buyer: reserved in a transaction, then sent to the gateway once."""

import asyncio
import logging

from pymongo.errors import DuplicateKeyError

from app.audit import service as audit
from app.core.database import Session, transaction
from app.core.permissions import SYSTEM_ACTOR, Actor
from app.payments import after_release, repository
from app.payments.exceptions import GatewayRefused, IllegalEscrowTransition, RefundTooLarge
from app.payments.gateway.exceptions import GatewayError, GatewayUnavailable
from app.payments.gateway_access import gateway
from app.payments.ledger import accounts
from app.payments.ledger import service as ledger
from app.payments.models import EscrowStatus, Payment, Refund, RefundStatus
from app.payments.outcomes import record_gateway_refund, reverse_refund, set_refund_statuses
from app.payments.payables import payable_of
from app.payments.transitions import REFUNDABLE_ESCROW, REFUNDABLE_PAYMENT
from app.risk import rules as risk_rules
from app.risk import service as risk
from app.risk.models import Assessment, RiskEvent

log = logging.getLogger(__name__)

# Set when a refund is reserved, so the dispatch job sends it without waiting its interval.
refunds_reserved = asyncio.Event()


async def refund(
    actor: Actor, payment_id: str, amount: int, reason: str, *, resolution: bool = False,
    refund_id: str | None = None,
) -> Refund:
    """Refund the buyer through the gateway: from escrow before release; after release it is
    an admin decision taken back from the dealer's payable and the platform's commission as
    the release split them (what the payable lacks, the dealer owes: its receivable).

    A caller-chosen `refund_id` makes the call idempotent: once that refund exists, calling
    again moves no money and returns it (sent to the gateway first if it never was)."""
    if refund_id is not None and (existing := await repository.get_refund(refund_id)) is not None:
        return await _resume_refund(existing)
    payment = await repository.get_existing(payment_id)
    _check_refundable(payment, amount, resolution)
    assessment = await _screen_refund(payment)

    async def work(session: Session) -> Refund:
        record = await reserve_refund(session, actor, payment, amount, reason, refund_id)
        if assessment.flags:
            await repository.add_risk_flags(session, payment.id, assessment.codes)
            await risk.record(session, actor, assessment, "payment", payment.id, "alert")
        return record

    try:
        record = await transaction(work)
    except (DuplicateKeyError, RefundTooLarge):
        # A concurrent call with the same refund id got there first.
        existing = await repository.get_refund(refund_id) if refund_id is not None else None
        if existing is None:
            raise
        return await _resume_refund(existing)
    await risk.alert(assessment, "payment", payment.id)
    return await dispatch_refund(record.id)


async def _screen_refund(payment: Payment) -> Assessment:
    """The fraud checks of a refund: the buyer's refunded payments against its paid ones,
    counting this payment as refunded."""
    paid, refunded = await repository.paid_and_refunded(payment.payer_id)
    if payment.amount_refunded == 0:
        refunded += 1
    return risk.assess(RiskEvent.REFUND,
                       [risk_rules.refund_ratio(risk.risk_settings(), paid, refunded)])


async def _resume_refund(record: Refund) -> Refund:
    if record.status is RefundStatus.PENDING and record.gateway_refund_id is None:
        return await dispatch_refund(record.id)
    return record


def _check_refundable(payment: Payment, amount: int, resolution: bool) -> None:
    if payment.status not in REFUNDABLE_PAYMENT:
        raise IllegalEscrowTransition(f"A {payment.status.value} payment cannot be refunded")
    if payment.escrow_status is EscrowStatus.DISPUTED and not resolution:
        raise IllegalEscrowTransition("The escrow is disputed: resolve the dispute instead")
    refundable = payment.amount_captured - payment.amount_refunded
    if amount > refundable:
        raise RefundTooLarge(data={"refundable": refundable, "requested": amount})


async def refund_cancelled_order(session: Session, payment_id: str) -> None:
    """In the transaction that cancels a paid order: set aside a full refund of what the buyer
    paid and was not yet refunded. An escrow an override released early refuses the cancel
    (409): the money is with the dealer, and finance decides how to refund it.

    The gateway call happens after the commit, by the refund dispatch job.
    """
    payment = await repository.get(payment_id, session=session)
    if payment is None:
        log.warning("cancelled order names an unknown payment", extra={"paymentId": payment_id})
        return
    if payment.escrow_status is EscrowStatus.RELEASED:
        raise IllegalEscrowTransition(
            "The payment was already released to the dealer; ask finance for a refund",
            {"escrowStatus": payment.escrow_status.value},
        )
    outstanding = payment.amount_captured - payment.amount_refunded
    if outstanding > 0:
        await reserve_refund(session, SYSTEM_ACTOR, payment, outstanding,
                             "Order cancelled after payment")


async def reserve_refund(
    session: Session, actor: Actor, payment: Payment, amount: int, reason: str,
    refund_id: str | None = None,
) -> Refund:
    """Take the refund out of escrow (after release: out of the dealer's payable, or its
    receivable, and the platform's revenue, pro rata) into the payment's refunds in flight,
    in the caller's transaction; it leaves them when the gateway reports it processed."""
    from_escrow = payment.escrow_status in REFUNDABLE_ESCROW
    chosen = {"id": refund_id} if refund_id is not None else {}
    in_flight = accounts.refund_in_flight(payment.id)
    record = Refund(**chosen, payment_id=payment.id, amount=amount, reason=reason,
                    source_account=accounts.escrow(payment.id) if from_escrow
                    else accounts.payable(payment.payee_id),
                    in_flight_account=in_flight, requested_by=actor.id)
    split: dict[str, int] = {}
    if from_escrow:
        updated = await repository.take_refund(session, payment, record.amount, from_escrow)
        if updated is None:
            raise RefundTooLarge("The payment changed meanwhile or the refund is too large")
        transfers = [ledger.Transfer(record.source_account, in_flight, record.amount)]
    else:
        taken = await after_release.take(session, payment.id, amount)
        updated, transfers = taken.updated, taken.transfers
        record.platform_part, record.receivable_part = taken.platform_part, taken.receivable_part
        split = {"dealerPart": taken.dealer_part, "platformPart": taken.platform_part,
                 "receivablePart": taken.receivable_part}
    await set_refund_statuses(session, updated)
    await payable_of(payment.payable_type).on_refunded(
        session, payment.payable_id, updated["amount_refunded"] >= updated["amount_captured"])
    await ledger.post(
        session, key=f"refund:{record.id}", kind="refund", actor=actor, transfers=transfers,
        payment_id=payment.id, recipient_id=payment.payee_id, memo=record.reason,
        metadata=split,
    )
    await repository.insert_refund(session, record)
    await audit.record(
        session, actor=actor, action="payment.refunded", subject_type="payment",
        subject_id=payment.id, reason=record.reason,
        changes={"amountRefunded": {"from": updated["amount_refunded"] - record.amount,
                                    "to": updated["amount_refunded"]},
                 "refundsInFlight": {"from": updated["refunds_in_flight"] - 1,
                                     "to": updated["refunds_in_flight"]}},
        metadata={"refundId": record.id, "amount": record.amount,
                  "from": record.source_account, **split},
    )
    refunds_reserved.set()
    return record


async def dispatch_refund(refund_id: str) -> Refund:
    """Ask the gateway to pay a reserved refund; the refund id is the idempotency key, so a
    retry after a timeout can never refund twice."""
    record = await repository.get_refund(refund_id)
    assert record is not None
    payment = await repository.get_existing(record.payment_id)
    try:
        answer = await gateway().refund(
            payment.gateway_payment_id or "", record.amount, idempotency_key=record.id,
            notes={"refundId": record.id, "paymentId": payment.id},
        )
    except GatewayUnavailable:
        log.warning("refund outcome unknown; left pending", extra={"refundId": record.id})
        return record
    except GatewayError as error:
        await reverse_refund(record.id, error.description)
        raise GatewayRefused(f"The gateway refused the refund: {error.description}") from None
    await record_gateway_refund(record.id, answer)
    return await repository.get_refund(record.id) or record
