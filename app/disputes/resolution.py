"""Resolving a dispute: an ops admin's decision (the ops leader's before delivery) moves the
money through the escrow once.

Resolving is crash-safe. The gateway refund cannot share a database transaction, so the
decision is fixed first (open → resolving, with its amounts and a refund id derived from the
dispute), then the refund (that id is the gateway's idempotency key, and refunding again
with it moves nothing), then the release (one ledger transaction per payment), and last
resolving → resolved. A retry, with any key, of the same decision continues where the first
attempt stopped; every step looks at what is already done before doing it.
"""

from app.audit import service as audit
from app.core import clock
from app.core.database import Session, transaction
from app.core.errors import IllegalTransition, OverrideForbidden
from app.core.permissions import Actor, Permission
from app.disputes import repository
from app.disputes.exceptions import DisputeAmountInvalid, IllegalDisputeTransition
from app.disputes.models import (
    Dispute,
    DisputeAction,
    DisputeStatus,
    Resolution,
    ResolutionRecord,
)
from app.disputes.schemas import DisputeAdminUpdate
from app.disputes.service import DisputeView, get, get_visible, history, refuse_resolved
from app.orders import service as orders_service
from app.orders.models import OrderStatus
from app.payments import service as payments_service
from app.payments.models import CommissionBreakdown, EscrowStatus, RefundStatus
from app.repairs import terminal as repairs_terminal
from app.repairs.models import RepairStatus

# Orders whose delivery happened: a dispute decided on them is no override.
DELIVERED = frozenset({OrderStatus.DELIVERED, OrderStatus.COMPLETED})


def _amounts(data: DisputeAdminUpdate, held: int) -> tuple[int, int]:
    """(refund to the buyer, release to the dealer) for the decision; 422 if they don't fit."""
    if held <= 0:
        raise IllegalDisputeTransition("Nothing is held in escrow for this dispute",
                                       {"held": held})
    requested = data.buyer_amount
    if data.resolution is Resolution.RELEASE_TO_DEALER:
        return 0, held
    if data.resolution is Resolution.REFUND_BUYER:
        refund = held if requested is None else requested
        if refund > held:
            raise DisputeAmountInvalid(
                f"buyerAmount ({refund} paise) is more than the escrow holds ({held} paise)",
                held, requested)
        return refund, held - refund
    assert requested is not None
    if requested >= held:
        raise DisputeAmountInvalid(
            f"A split needs 0 < buyerAmount < {held} paise (what the escrow holds); "
            "use refund_buyer to refund everything", held, requested)
    return requested, held - requested


def _same_decision(record: ResolutionRecord | None, data: DisputeAdminUpdate) -> bool:
    return (record is not None and record.resolution is data.resolution
            and record.requested_buyer_amount == data.buyer_amount)


def _refund_id(dispute_id: str, attempt: int) -> str:
    return f"rfd_{dispute_id}_{attempt}"


async def resolve(actor: Actor, dispute_id: str, data: DisputeAdminUpdate) -> DisputeView:
    """Decide (open → resolving), move the money, then resolving → resolved. A retry of the
    same decision on a `resolving` dispute continues where the last attempt stopped."""
    dispute = await get(dispute_id)
    if dispute.status is DisputeStatus.RESOLVED:
        raise refuse_resolved(dispute, "it was resolved already")
    if dispute.status is DisputeStatus.OPEN:
        dispute = await _decide(actor, dispute, data)
    elif not _same_decision(dispute.resolution, data):
        raise _being_resolved(dispute)
    dispute = await _carry_out(actor, dispute)
    return await get_visible(actor, dispute.id)


def _being_resolved(dispute: Dispute) -> IllegalDisputeTransition:
    record = dispute.resolution
    assert record is not None
    return IllegalDisputeTransition(
        f"The dispute is being resolved as {record.resolution.value}; retry with that same "
        "decision to finish it",
        {"status": dispute.status.value, "resolution": record.resolution.value,
         "buyerAmount": record.requested_buyer_amount},
    )


async def _decide(actor: Actor, dispute: Dispute, data: DisputeAdminUpdate) -> Dispute:
    assert data.resolution is not None and data.note is not None
    payment = await payments_service.get_payment(dispute.payment_id)
    after_release = dispute.escrow_status_before == EscrowStatus.RELEASED.value
    expected = EscrowStatus.RELEASED if after_release else EscrowStatus.DISPUTED
    if payment.escrow_status is not expected:
        raise IllegalDisputeTransition(
            f"The escrow is {payment.escrow_status.value}, not "
            f"{'released' if after_release else 'frozen for this dispute'}",
            {"escrowStatus": payment.escrow_status.value},
        )
    if after_release:
        # The dealer has the money: the buyer's share comes back by a refund after release,
        # and "release to the dealer" moves nothing more.
        held = payment.amount_captured - payment.amount_refunded
        refund, release = _amounts(data, held)[0], 0
    else:
        held = payments_service.held_amount(payment)
        refund, release = _amounts(data, held)
    subject_status, delivered = await _subject_state(dispute)
    if not after_release and not delivered and not actor.can(Permission.DISPUTES_OVERRIDE):
        raise OverrideForbidden("Only the ops leader may resolve a dispute before delivery",
                                {("repairStatus" if dispute.repair_id else "orderStatus"):
                                 subject_status})
    record = ResolutionRecord(
        resolution=data.resolution, note=data.note, decided_by=actor.id, decided_at=clock.utcnow(),
        requested_buyer_amount=data.buyer_amount, held_at_decision=held,
        override=not after_release and not delivered,
        after_release=after_release, refund_amount=refund, release_amount=release,
        refund_id=_refund_id(dispute.id, 1) if refund else None,
    )

    async def work(session: Session) -> bool:
        started = await repository.start_resolving(
            session, dispute.id, record.model_dump(),
            history(DisputeStatus.OPEN, DisputeAction.RESOLVE, actor), clock.utcnow(),
        )
        if not started:
            return False
        await audit.record(
            session, actor=actor, action="dispute.resolution_started", subject_type="dispute",
            subject_id=dispute.id, reason=data.note, override=record.override,
            changes={"status": {"from": DisputeStatus.OPEN, "to": DisputeStatus.RESOLVING}},
            metadata={"resolution": data.resolution.value, "held": held,
                      "refundAmount": refund, "releaseAmount": release,
                      "paymentId": dispute.payment_id,
                      ("repairStatus" if dispute.repair_id else "orderStatus"): subject_status,
                      "afterRelease": after_release},
        )
        return True

    if not await transaction(work):
        fresh = await get(dispute.id)
        if fresh.status is DisputeStatus.RESOLVING and _same_decision(fresh.resolution, data):
            return fresh
        if fresh.status is DisputeStatus.RESOLVED:
            raise refuse_resolved(fresh, "it was resolved already")
        raise _being_resolved(fresh)
    return await get(dispute.id)


async def _carry_out(actor: Actor, dispute: Dispute) -> Dispute:
    record = dispute.resolution
    assert record is not None
    if record.refund_amount > 0:
        dispute = await _refund_step(actor, dispute)
    if record.release_amount > 0 and not await _release_step(actor, dispute):
        # Above the approval threshold the decision is the first approval: the dispute stays
        # resolving until a finance admin releases (PATCH /api/payments/{id}/release).
        return await get(dispute.id)
    return await _complete(actor, dispute)


async def _refund_step(actor: Actor, dispute: Dispute) -> Dispute:
    """Refund the buyer's amount once: the refund id is fixed per attempt, and a refund the
    gateway refused (its money already back in escrow) is retried under the next id."""
    record = dispute.resolution
    assert record is not None and record.refund_id is not None
    reason = f"Dispute {dispute.id} ({record.resolution.value}): {record.note}"
    refund = await payments_service.refund(actor, dispute.payment_id, record.refund_amount, reason,
                                 resolution=True, refund_id=record.refund_id)
    if refund.status is not RefundStatus.FAILED:
        return dispute
    dispute = await _next_refund_attempt(actor, dispute)
    record = dispute.resolution
    assert record is not None and record.refund_id is not None
    await payments_service.refund(actor, dispute.payment_id, record.refund_amount, reason,
                        resolution=True, refund_id=record.refund_id)
    return dispute


async def _next_refund_attempt(actor: Actor, dispute: Dispute) -> Dispute:
    record = dispute.resolution
    assert record is not None
    attempt = record.refund_attempt + 1
    refund_id = _refund_id(dispute.id, attempt)

    async def work(session: Session) -> None:
        if not await repository.next_refund_attempt(session, dispute.id, attempt, refund_id,
                                                    clock.utcnow()):
            return  # another call moved it on first, and audited that
        await audit.record(
            session, actor=actor, action="dispute.refund_retried", subject_type="dispute",
            subject_id=dispute.id, reason=f"Refund {record.refund_id} failed at the gateway",
            changes={"refundAttempt": {"from": record.refund_attempt, "to": attempt},
                     "refundId": {"from": record.refund_id, "to": refund_id}},
            metadata={"paymentId": dispute.payment_id, "amount": record.refund_amount},
        )

    await transaction(work)
    return await get(dispute.id)


async def _release_step(actor: Actor, dispute: Dispute) -> bool:
    """Release the dealer's part; False while it awaits a second (finance) approval."""
    record = dispute.resolution
    assert record is not None
    payment = await payments_service.get_payment(dispute.payment_id)
    if payment.escrow_status is EscrowStatus.RELEASED:
        return True
    held = payments_service.held_amount(payment)
    if held != record.release_amount:
        raise IllegalDisputeTransition(
            "The escrow does not hold what the decision releases; nothing was released",
            {"held": held, "releaseAmount": record.release_amount,
             "escrowStatus": payment.escrow_status.value},
        )
    try:
        outcome = await payments_service.release(actor, payment.id, reason=record.note,
                                                 dispute_id=dispute.id)
    except IllegalTransition:
        payment = await payments_service.get_payment(dispute.payment_id)
        if payment.escrow_status is EscrowStatus.RELEASED:
            return True
        raise
    return outcome.executed


async def _complete(actor: Actor, dispute: Dispute) -> Dispute:
    record = dispute.resolution
    assert record is not None
    payment = await payments_service.get_payment(dispute.payment_id)
    released = payment.amount_released if record.release_amount else 0
    split = payment.commission_breakdown if released else None
    await transaction(lambda session: _finish(session, actor, dispute, released, split))
    return await get(dispute.id)


async def complete_after_release(
    session: Session, actor: Actor, released: payments_service.DisputeReleased
) -> None:
    """Payments' release hook, in the transaction that releases a disputed escrow: the
    dispute being resolved is resolved with it (whoever released: the resolving admin, or
    the finance admin whose approval completed a release above the threshold)."""
    dispute_id = await repository.open_dispute_id(released.payable_id, session=session)
    dispute = await repository.get(dispute_id, session) if dispute_id else None
    if (dispute is None or dispute.status is not DisputeStatus.RESOLVING
            or dispute.payment_id != released.payment_id):
        return
    await _finish(session, actor, dispute, released.amount, released.split)


async def _finish(
    session: Session, actor: Actor, dispute: Dispute, released: int,
    split: CommissionBreakdown | None,
) -> None:
    """resolving → resolved with what moved, audited; an order not yet delivered is closed
    (completed, as the deciding admin's override). Nothing when already resolved."""
    record = dispute.resolution
    assert record is not None
    outcome = {
        "refunded_amount": record.refund_amount,
        "released_amount": released,
        "dealer_share": split.dealer_share if split else None,
        "commission": split.commission if split else None,
        "platform_share": split.platform_share if split else None,
    }
    completed = await repository.complete(
        session, dispute.id, outcome,
        history(DisputeStatus.RESOLVING, DisputeAction.COMPLETE, actor), clock.utcnow(),
    )
    if not completed:
        return  # another attempt finished it meanwhile
    await audit.record(
        session, actor=actor, action="dispute.resolved", subject_type="dispute",
        subject_id=dispute.id, reason=record.note, override=record.override,
        changes={"status": {"from": DisputeStatus.RESOLVING, "to": DisputeStatus.RESOLVED}},
        metadata={"resolution": record.resolution.value, "decidedBy": record.decided_by,
                  "buyerAmount": record.refund_amount, "refundId": record.refund_id,
                  "releasedAmount": released, "dealerShare": outcome["dealer_share"],
                  "commission": outcome["commission"],
                  "platformShare": outcome["platform_share"],
                  "paymentId": dispute.payment_id, "orderId": dispute.order_id,
                  "repairId": dispute.repair_id, "afterRelease": record.after_release},
    )
    if dispute.order_id is not None:
        await orders_service.close_after_dispute(session, dispute.order_id, actor, record.note)
    # A repair job stays as it is: its lifecycle (completion, an admin's cancellation) goes on.


async def _subject_state(dispute: Dispute) -> tuple[str, bool]:
    """The disputed order's (or repair job's) status, and whether it was delivered
    (completed): a decision before that is an override."""
    if dispute.repair_id is not None:
        repair = await repairs_terminal.get_repair(dispute.repair_id)
        return repair.status.value, repair.status is RepairStatus.COMPLETED
    assert dispute.order_id is not None
    order = await orders_service.get_order(dispute.order_id)
    return order.status.value, order.status in DELIVERED
