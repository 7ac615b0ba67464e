"""Money held in escrow: release to the dealer, manual holds, dispute freezes and refunds."""

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from pymongo.errors import DuplicateKeyError

from app.alerts import service as alerts
from app.alerts.models import AlertKind
from app.audit import service as audit
from app.core import clock
from app.core.config import settings
from app.core.database import Session, transaction
from app.core.errors import IllegalTransition, ReasonRequired
from app.core.permissions import SYSTEM_ACTOR, Actor, Permission
from app.payments import commission
from app.payments import service as payments
from app.payments.exceptions import (
    EscrowPermissionDenied,
    GatewayRefused,
    IllegalEscrowTransition,
    RefundTooLarge,
    ReleaseNeedsAnotherApprover,
)
from app.payments.gateway.base import GatewayRefund, GatewayRefundStatus
from app.payments.gateway.exceptions import GatewayError, GatewayUnavailable
from app.payments.gateway_access import gateway
from app.payments.ledger import accounts
from app.payments.ledger import service as ledger
from app.payments.models import (
    EscrowStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from app.payments.payables import payable_of

log = logging.getLogger(__name__)

# The escrow state machine: action → (from which states, to which state). Refunds and
# releases also need money left; those checks sit with the actions below.
ESCROW_TRANSITIONS: dict[str, tuple[frozenset[EscrowStatus], EscrowStatus]] = {
    "hold": (frozenset({EscrowStatus.HELD}), EscrowStatus.ON_HOLD),
    "unhold": (frozenset({EscrowStatus.ON_HOLD}), EscrowStatus.HELD),
    "dispute": (frozenset({EscrowStatus.HELD, EscrowStatus.ON_HOLD}), EscrowStatus.DISPUTED),
    "release": (frozenset({EscrowStatus.HELD}), EscrowStatus.RELEASED),
    "resolve_release": (frozenset({EscrowStatus.DISPUTED}), EscrowStatus.RELEASED),
}
REFUNDABLE_ESCROW = frozenset({EscrowStatus.HELD, EscrowStatus.ON_HOLD, EscrowStatus.DISPUTED})
HOLDING = frozenset({EscrowStatus.HELD, EscrowStatus.ON_HOLD, EscrowStatus.DISPUTED})


def _check(action: str, payment: Payment) -> EscrowStatus:
    sources, target = ESCROW_TRANSITIONS[action]
    if payment.escrow_status not in sources:
        raise IllegalEscrowTransition(
            f"Cannot {action.replace('_', ' ')}: the escrow is {payment.escrow_status.value}",
            {"escrowStatus": payment.escrow_status.value,
             "allowedActions": [a for a, (s, _) in ESCROW_TRANSITIONS.items()
                                if payment.escrow_status in s]},
        )
    return target


def _held_amount(payment: Payment) -> int:
    return payment.amount_captured - payment.refunded_from_escrow - payment.amount_released


def held_amount(payment: Payment) -> int:
    """What the payment's escrow still holds, in paise."""
    return _held_amount(payment)


# --- release -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReleaseOutcome:
    payment: Payment
    executed: bool


async def release(
    actor: Actor,
    payment_id: str,
    *,
    override: bool = False,
    reason: str | None = None,
    resolution: bool = False,
) -> ReleaseOutcome:
    """Pay the dealer's share into its payable balance and the platform its commission.

    Needs the order delivered (an ops override may release earlier, with a reason), and
    above the approval threshold a second finance admin's approval. A dispute resolution
    (`resolution`) releases a disputed escrow as the resolving admin decided.
    """
    _check_release_permission(actor, override, reason, resolution)
    payment = await payments.get_payment(payment_id)
    action = "resolve_release" if resolution else "release"
    _check(action, payment)
    if _held_amount(payment) <= 0:
        raise IllegalEscrowTransition("Nothing is left in escrow to release")
    if payment.refunds_in_flight:
        raise IllegalEscrowTransition(
            "A refund of this payment is still pending at the gateway; release after it settles",
            {"refundsInFlight": payment.refunds_in_flight},
        )
    payable = payable_of(payment.payable_type)
    fulfilment = await payable.fulfilment(payment.payable_id)
    if not resolution:
        if override and fulfilment.delivered:
            raise IllegalEscrowTransition("Delivered orders need no override; release normally")
        if not override and not fulfilment.delivered:
            raise IllegalEscrowTransition(
                "Escrow is released only after delivery",
                {"escrowStatus": payment.escrow_status.value, "delivered": False},
            )
        if await _needs_second_approval(actor, payment):
            return ReleaseOutcome(await payments.get_payment(payment_id), executed=False)
    await transaction(lambda session: _execute_release(
        session, actor, payment, action, fulfilment.delivered, override, reason))
    return ReleaseOutcome(await payments.get_payment(payment_id), executed=True)


def _check_release_permission(
    actor: Actor, override: bool, reason: str | None, resolution: bool = False
) -> None:
    if resolution:
        # The disputes domain decided; whoever may resolve disputes may release the result.
        if actor is not SYSTEM_ACTOR and not actor.can(Permission.DISPUTES_MANAGE):
            raise EscrowPermissionDenied("Only dispute resolvers may release a disputed escrow")
        return
    if override:
        if not actor.can(Permission.ESCROW_OVERRIDE):
            raise EscrowPermissionDenied("Only ops admins may release early as an override")
        if not reason:
            raise ReasonRequired("An override must give a reason")
    elif actor is not SYSTEM_ACTOR and not actor.can(Permission.ESCROW_RELEASE):
        raise EscrowPermissionDenied


async def _needs_second_approval(actor: Actor, payment: Payment) -> bool:
    """Record the first approval of a high-value release; True while the second is missing."""
    if _held_amount(payment) <= settings().escrow.release_approval_threshold:
        return False
    approval = payment.release_approval
    if approval is not None:
        if approval.requested_by == actor.id:
            raise ReleaseNeedsAnotherApprover
        return False
    if actor is SYSTEM_ACTOR:
        return True

    async def work(session: Session) -> None:
        result = await payments.collection().update_one(
            {"_id": payment.id, "release_approval": None,
             "escrow_status": EscrowStatus.HELD.value},
            {"$set": {"release_approval": {"requested_by": actor.id, "requested_at": clock.utcnow()},
                      "updated_at": clock.utcnow()}, "$inc": {"version": 1}},
            session=session,
        )
        if result.modified_count != 1:
            raise IllegalEscrowTransition("The payment changed meanwhile; retry")
        await audit.record(
            session, actor=actor, action="payment.release_approved_first", subject_type="payment",
            subject_id=payment.id, metadata={"amount": _held_amount(payment)},
        )

    await transaction(work)
    return True


async def _execute_release(
    session: Session, actor: Actor, payment: Payment, action: str, delivered: bool,
    override: bool, reason: str | None,
) -> None:
    split = commission.breakdown(
        payment.subtotal, payment.delivery_charge, payment.service_fee,
        payment.commission_breakdown.rate_bps, refunded=payment.refunded_from_escrow,
    )
    held = _held_amount(payment)
    result = await payments.collection().update_one(
        {"_id": payment.id, "escrow_status": payment.escrow_status.value,
         "version": payment.version, "refunds_in_flight": {"$in": [0, None]}},
        {"$set": {"escrow_status": EscrowStatus.RELEASED.value, "amount_released": held,
                  "released_at": clock.utcnow(), "updated_at": clock.utcnow(),
                  "commission_breakdown": split.model_dump()},
         "$inc": {"version": 1}},
        session=session,
    )
    if result.modified_count != 1:
        raise IllegalEscrowTransition("The escrow changed meanwhile; reload and retry")
    transfers = [
        ledger.Transfer(accounts.escrow(payment.id), accounts.payable(payment.payee_id),
                        split.dealer_share),
        ledger.Transfer(accounts.escrow(payment.id), accounts.PLATFORM_REVENUE,
                        split.platform_share),
    ]
    await ledger.post(
        session, key=f"release:{payment.id}", kind="release", actor=actor,
        transfers=[t for t in transfers if t.amount > 0], payment_id=payment.id,
        recipient_id=payment.payee_id, metadata=split.model_dump(),
    )
    if delivered:
        await payable_of(payment.payable_type).mark_completed(session, payment.payable_id)
    await audit.record(
        session, actor=actor, action="payment.released", subject_type="payment",
        subject_id=payment.id, reason=reason, override=override,
        changes={"escrowStatus": {"from": payment.escrow_status, "to": EscrowStatus.RELEASED}},
        metadata={"via": action, **split.model_dump(),
                  "firstApprover": payment.release_approval.requested_by
                  if payment.release_approval else None},
    )


# --- manual holds and dispute freezes ------------------------------------------------------


async def set_hold(actor: Actor, payment_id: str, hold: bool, reason: str) -> Payment:
    payment = await payments.get_payment(payment_id)
    action = "hold" if hold else "unhold"
    target = _check(action, payment)
    now = clock.utcnow()
    hold_doc = {"reason": reason, "by": actor.id, "at": now} if hold else None

    async def work(session: Session) -> None:
        await _move(session, payment, target, {"hold": hold_doc})
        await audit.record(
            session, actor=actor, action=f"payment.{'hold_placed' if hold else 'hold_lifted'}",
            subject_type="payment", subject_id=payment.id, reason=reason,
            changes={"escrowStatus": {"from": payment.escrow_status, "to": target}},
        )

    await transaction(work)
    return await payments.get_payment(payment_id)


async def freeze_for_dispute(session: Session, payment_id: str) -> None:
    payment = await payments.get_payment(payment_id)
    await _move(session, payment, _check("dispute", payment), {})


async def _move(
    session: Session, payment: Payment, target: EscrowStatus, extra: dict[str, object]
) -> None:
    result = await payments.collection().update_one(
        {"_id": payment.id, "escrow_status": payment.escrow_status.value,
         "version": payment.version},
        {"$set": {"escrow_status": target.value, "updated_at": clock.utcnow(), **extra},
         "$inc": {"version": 1}},
        session=session,
    )
    if result.modified_count != 1:
        raise IllegalEscrowTransition("The escrow changed meanwhile; reload and retry")


# --- refunds ---------------------------------------------------------------------------------


async def refund(
    actor: Actor, payment_id: str, amount: int, reason: str, *, resolution: bool = False,
    refund_id: str | None = None,
) -> Refund:
    """Refund the buyer through the gateway: from escrow before release; after release it is
    an admin decision that debits the dealer's payable balance.

    A caller-chosen `refund_id` makes the call idempotent: once that refund exists, calling
    again moves no money and returns it (sent to the gateway first if it never was)."""
    if refund_id is not None and (existing := await Refund.get(refund_id)) is not None:
        return await _resume_refund(existing)
    payment = await payments.get_payment(payment_id)
    _check_refundable(payment, amount, resolution)
    try:
        record = await transaction(
            lambda session: reserve_refund(session, actor, payment, amount, reason, refund_id)
        )
    except (DuplicateKeyError, RefundTooLarge):
        # A concurrent call with the same refund id got there first.
        existing = await Refund.get(refund_id) if refund_id is not None else None
        if existing is None:
            raise
        return await _resume_refund(existing)
    return await dispatch_refund(record.id)


async def _resume_refund(record: Refund) -> Refund:
    if record.status is RefundStatus.PENDING and record.gateway_refund_id is None:
        return await dispatch_refund(record.id)
    return record


async def refund_cancelled_order(session: Session, payment_id: str) -> None:
    """In the transaction that cancels a paid order: set aside a full refund of what the buyer
    paid and was not yet refunded. An escrow an override released early refuses the cancel
    (409): the money is with the dealer, and finance decides how to refund it.

    The gateway call happens after the commit, by `dispatch_pending_refunds`.
    """
    payment = await Payment.get(payment_id, session=session)
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
    """Take the refund out of escrow (or the dealer payable) in the caller's transaction."""
    from_escrow = payment.escrow_status in REFUNDABLE_ESCROW
    source = accounts.escrow(payment.id) if from_escrow else accounts.payable(payment.payee_id)
    chosen = {"id": refund_id} if refund_id is not None else {}
    record = Refund(**chosen, payment_id=payment.id, amount=amount, reason=reason,
                    source_account=source, requested_by=actor.id)
    await _reserve_refund(session, actor, payment, record, from_escrow)
    refunds_reserved.set()
    return record


async def dispatch_refund(refund_id: str) -> Refund:
    """Ask the gateway to pay a reserved refund; the refund id is the idempotency key, so a
    retry after a timeout can never refund twice."""
    record = await Refund.get(refund_id)
    assert record is not None
    payment = await payments.get_payment(record.payment_id)
    try:
        answer = await gateway().refund(
            payment.gateway_payment_id or "", record.amount, idempotency_key=record.id,
            notes={"refundId": record.id, "paymentId": payment.id},
        )
    except GatewayUnavailable:
        log.warning("refund outcome unknown; left pending", extra={"refundId": record.id})
        return record
    except GatewayError as error:
        await _reverse_refund(record.id, error.description)
        raise GatewayRefused(f"The gateway refused the refund: {error.description}") from None
    await _record_gateway_refund(record.id, answer)
    return await Refund.get(record.id) or record


async def dispatch_pending_refunds(limit: int = 50) -> bool:
    """Background job: send reserved refunds the gateway has not acknowledged yet."""
    pending = await Refund.find(
        {"status": RefundStatus.PENDING.value, "gateway_refund_id": None}
    ).limit(limit).to_list()
    for record in pending:
        try:
            await dispatch_refund(record.id)
        except GatewayRefused:
            continue
    return len(pending) == limit


def _check_refundable(payment: Payment, amount: int, resolution: bool) -> None:
    if payment.status not in (PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED):
        raise IllegalEscrowTransition(f"A {payment.status.value} payment cannot be refunded")
    if payment.escrow_status is EscrowStatus.DISPUTED and not resolution:
        raise IllegalEscrowTransition("The escrow is disputed: resolve the dispute instead")
    refundable = payment.amount_captured - payment.amount_refunded
    if amount > refundable:
        raise RefundTooLarge(data={"refundable": refundable, "requested": amount})


refunds_reserved = asyncio.Event()


async def _reserve_refund(
    session: Session, actor: Actor, payment: Payment, record: Refund, from_escrow: bool
) -> None:
    updated = await payments.collection().find_one_and_update(
        {"_id": payment.id,
         "amount_refunded": {"$lte": payment.amount_captured - record.amount},
         "escrow_status": payment.escrow_status.value},
        {"$inc": {"amount_refunded": record.amount,
                  "refunded_from_escrow": record.amount if from_escrow else 0,
                  "refunds_in_flight": 1, "version": 1},
         "$set": {"updated_at": clock.utcnow()}},
        session=session, return_document=True,
    )
    if updated is None:
        raise RefundTooLarge("The payment changed meanwhile or the refund is too large")
    await _set_refund_status(session, updated)
    await ledger.post(
        session, key=f"refund:{record.id}", kind="refund", actor=actor,
        transfers=[ledger.Transfer(record.source_account, accounts.REFUNDS, record.amount)],
        payment_id=payment.id, recipient_id=payment.payee_id, memo=record.reason,
    )
    await record.insert(session=session)
    await audit.record(
        session, actor=actor, action="payment.refunded", subject_type="payment",
        subject_id=payment.id, reason=record.reason,
        changes={"amountRefunded": {"from": payment.amount_refunded,
                                    "to": updated["amount_refunded"]}},
        metadata={"refundId": record.id, "amount": record.amount, "from": record.source_account},
    )


async def _set_refund_status(session: Session, doc: dict[str, object]) -> None:
    captured, refunded = int(doc["amount_captured"]), int(doc["amount_refunded"])  # type: ignore[call-overload]
    held = captured - int(doc["refunded_from_escrow"]) - int(doc["amount_released"])  # type: ignore[call-overload]
    status = (PaymentStatus.CAPTURED if refunded == 0 else
              PaymentStatus.REFUNDED if refunded >= captured else PaymentStatus.PARTIALLY_REFUNDED)
    update: dict[str, object] = {"status": status.value}
    if doc["escrow_status"] in {s.value for s in HOLDING} and held == 0:
        update["escrow_status"] = EscrowStatus.REFUNDED.value
    elif doc["escrow_status"] == EscrowStatus.REFUNDED.value and held > 0:
        update["escrow_status"] = EscrowStatus.HELD.value
    await payments.collection().update_one({"_id": doc["_id"]}, {"$set": update}, session=session)


async def _record_gateway_refund(refund_id: str, answer: GatewayRefund) -> None:
    status = RefundStatus.PROCESSED if answer.status is GatewayRefundStatus.PROCESSED else None
    update: dict[str, object] = {"gateway_refund_id": answer.id, "updated_at": clock.utcnow()}
    if status:
        update["status"] = status.value
    settled = await Refund.get_pymongo_collection().update_one(
        {"_id": refund_id, "status": RefundStatus.PENDING.value}, {"$set": update}
    )
    if status and settled.modified_count:
        await _refund_settled(refund_id)
    if answer.status is GatewayRefundStatus.FAILED:
        await _reverse_refund(refund_id, "gateway reported the refund failed")


async def apply_refund_outcome(answer: GatewayRefund) -> str:
    """A refund webhook: processed settles it; failed puts the money back where it was."""
    stored = await Refund.find_one(Refund.gateway_refund_id == answer.id)
    if stored is None and answer.notes.get("refundId"):
        stored = await Refund.get(answer.notes["refundId"])
    if stored is None:
        return "unknown_refund"
    if answer.status is GatewayRefundStatus.FAILED:
        return "refund_failed" if await _reverse_refund(stored.id, "refund.failed") else "ignored"
    result = await Refund.get_pymongo_collection().update_one(
        {"_id": stored.id, "status": RefundStatus.PENDING.value},
        {"$set": {"status": RefundStatus.PROCESSED.value, "gateway_refund_id": answer.id,
                  "updated_at": clock.utcnow()}},
    )
    if not result.modified_count:
        return "ignored"
    await _refund_settled(stored.id)
    return "refund_processed"


async def _refund_settled(refund_id: str) -> None:
    record = await Refund.get(refund_id)
    if record is not None:
        await payments.collection().update_one(
            {"_id": record.payment_id, "refunds_in_flight": {"$gt": 0}},
            {"$inc": {"refunds_in_flight": -1}},
        )


async def _reverse_refund(refund_id: str, why: str) -> bool:
    async def work(session: Session) -> bool:
        record = await Refund.get(refund_id, session=session)
        if record is None:
            return False
        moved = await Refund.get_pymongo_collection().update_one(
            {"_id": refund_id, "status": RefundStatus.PENDING.value},
            {"$set": {"status": RefundStatus.FAILED.value, "failure_reason": why,
                      "updated_at": clock.utcnow()}},
            session=session,
        )
        if moved.modified_count != 1:
            return False
        from_escrow = record.source_account.startswith(accounts.ESCROW_PREFIX)
        updated = await payments.collection().find_one_and_update(
            {"_id": record.payment_id},
            {"$inc": {"amount_refunded": -record.amount,
                      "refunded_from_escrow": -record.amount if from_escrow else 0,
                      "refunds_in_flight": -1, "version": 1}},
            session=session, return_document=True,
        )
        await _set_refund_status(session, updated)
        if from_escrow and updated["escrow_status"] in (EscrowStatus.HELD.value,
                                                         EscrowStatus.REFUNDED.value):
            # The refund was decided on (by finance or a dispute); its failure must not let
            # the money drift to the dealer by an automatic release: finance decides again.
            await payments.collection().update_one(
                {"_id": record.payment_id},
                {"$set": {"escrow_status": EscrowStatus.ON_HOLD.value,
                          "hold": {"reason": f"Refund {refund_id} failed: {why}",
                                   "by": SYSTEM_ACTOR.id, "at": clock.utcnow()}}},
                session=session,
            )
        await ledger.post(
            session, key=f"refund-reversal:{refund_id}", kind="refund_reversal",
            actor=SYSTEM_ACTOR, payment_id=record.payment_id,
            transfers=[ledger.Transfer(accounts.REFUNDS, record.source_account, record.amount)],
            memo=why,
        )
        await audit.record(
            session, actor=SYSTEM_ACTOR, action="payment.refund_failed", subject_type="payment",
            subject_id=record.payment_id, reason=why,
            metadata={"refundId": refund_id, "amount": record.amount},
        )
        return True

    reversed_ = await transaction(work)
    if reversed_:
        record = await Refund.get(refund_id)
        await alerts.raise_alert(
            AlertKind.REFUND_FAILED, "payment", record.payment_id if record else refund_id,
            f"Refund {refund_id} failed at the gateway ({why}); the money is back on hold",
            {"refundId": refund_id},
        )
    return reversed_


# --- automatic release ---------------------------------------------------------------------


async def release_due_payments(limit: int = 100) -> int:
    """Release escrow whose delivery was confirmed more than the dispute window ago."""
    window = timedelta(days=settings().escrow.dispute_window_days)
    now = clock.utcnow()
    released = 0
    cursor = payments.collection().find(
        {"escrow_status": EscrowStatus.HELD.value, "captured_at": {"$lte": now - window}},
        {"_id": 1},
    ).limit(limit)
    async for doc in cursor:
        payment = await payments.get_payment(doc["_id"])
        fulfilment = await payable_of(payment.payable_type).fulfilment(payment.payable_id)
        if not (fulfilment.delivered and fulfilment.delivered_at
                and fulfilment.delivered_at <= now - window):
            continue
        try:
            outcome = await release(SYSTEM_ACTOR, payment.id)
        except (IllegalTransition, ReleaseNeedsAnotherApprover):
            continue
        released += outcome.executed
    return released
