"""Disputes: a buyer's complaint freezes the order's escrow; evidence notes from both sides;
an ops admin's resolution moves the money through the escrow exactly once.

Resolving is crash-safe. The gateway refund cannot share a database transaction, so the
decision is fixed first (open → resolving, with its amounts and a refund id derived from the
dispute), then the refund (that id is the gateway's idempotency key, and refunding again
with it moves nothing), then the release (one ledger transaction per payment), and last
resolving → resolved. A retry, with any key, of the same decision continues where the first
attempt stopped; every step looks at what is already done before doing it.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from app.audit import service as audit
from app.core import clock
from app.core.config import settings
from app.core.database import Session, transaction
from app.core.errors import IllegalTransition
from app.core.pagination import PageRequest, paginate
from app.core.permissions import Actor, Permission
from app.dealers import service as dealers_service
from app.disputes.exceptions import (
    DisputeActionForbidden,
    DisputeAlreadyOpen,
    DisputeAmountInvalid,
    DisputedOrderNotFound,
    DisputeNotFound,
    DisputeWindowClosed,
    IllegalDisputeTransition,
    OrderNotDisputable,
    TooManyNotes,
)
from app.disputes.models import (
    Dispute,
    DisputeAction,
    DisputeNote,
    DisputeStatus,
    DisputeStatusChange,
    NoteAuthor,
    Resolution,
    ResolutionRecord,
)
from app.disputes.schemas import DisputeAdminUpdate, DisputeCreate
from app.disputes.transitions import accepts_notes, allowed_actions, move_for
from app.orders import service as orders_service
from app.orders.models import Order, OrderStatus
from app.payments import service as payments_service
from app.payments.models import EscrowStatus, Payment, RefundStatus

log = logging.getLogger(__name__)

DISPUTABLE_ORDERS = frozenset(
    {OrderStatus.PAID, OrderStatus.PACKED, OrderStatus.SHIPPED, OrderStatus.DELIVERED}
)
UNRESOLVED = [DisputeStatus.OPEN.value, DisputeStatus.RESOLVING.value]
MAX_NOTES = 200


def _collection() -> AsyncCollection:
    return Dispute.get_pymongo_collection()


async def _load(dispute_id: str, session: Session | None = None) -> Dispute | None:
    doc = await _collection().find_one({"_id": dispute_id}, session=session)
    return Dispute.model_validate(doc) if doc else None


async def _get(dispute_id: str) -> Dispute:
    dispute = await _load(dispute_id)
    if dispute is None:
        raise DisputeNotFound
    return dispute


def _history(
    source: DisputeStatus | None, action: DisputeAction, actor: Actor
) -> dict[str, Any]:
    move = move_for(source, action)
    assert move is not None
    return DisputeStatusChange(
        from_status=source, to_status=move.target, action=action, by=actor.id
    ).model_dump()


# --- who is looking ---------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """An actor with its dealer profile resolved once."""

    actor: Actor
    dealer_id: str | None

    def parties(self, dispute: Dispute) -> frozenset[NoteAuthor]:
        parties = set()
        if self.actor.id == dispute.buyer_id:
            parties.add(NoteAuthor.BUYER)
        if self.dealer_id is not None and self.dealer_id == dispute.dealer_id:
            parties.add(NoteAuthor.DEALER)
        if self.actor.can(Permission.DISPUTES_MANAGE):
            parties.add(NoteAuthor.ADMIN)
        return frozenset(parties)

    def can_see(self, dispute: Dispute) -> bool:
        return bool(self.parties(dispute)) or self.actor.can(Permission.DISPUTES_READ_ALL)

    def allowed_actions(self, dispute: Dispute) -> list[str]:
        return allowed_actions(dispute.status, self.parties(dispute))


@dataclass(frozen=True)
class DisputeView:
    dispute: Dispute
    allowed_actions: list[str]


async def _viewer(actor: Actor) -> Viewer:
    return Viewer(actor, await dealers_service.dealer_id_of(actor))


async def _visible(viewer: Viewer, dispute_id: str) -> Dispute:
    dispute = await _load(dispute_id)
    if dispute is None or not viewer.can_see(dispute):
        raise DisputeNotFound
    return dispute


async def get_visible(actor: Actor, dispute_id: str) -> DisputeView:
    """The dispute for its buyer, the order's dealer and admins; 404 for anyone else."""
    viewer = await _viewer(actor)
    dispute = await _visible(viewer, dispute_id)
    return DisputeView(dispute, viewer.allowed_actions(dispute))


# --- opening ------------------------------------------------------------------------------


def _check_disputable(order: Order) -> None:
    if order.status not in DISPUTABLE_ORDERS:
        raise OrderNotDisputable(
            f"A {order.status.value} order cannot be disputed: disputes are opened between "
            "payment and the end of the dispute window after delivery",
            {"status": order.status.value},
        )
    if order.status is not OrderStatus.DELIVERED:
        return
    delivered_at = order.delivered_at or order.updated_at
    days = settings().escrow.dispute_window_days
    closes_at = delivered_at + timedelta(days=days)
    if clock.utcnow() >= closes_at:
        raise DisputeWindowClosed(
            f"The dispute window closed {days:g} day(s) after delivery, at "
            f"{closes_at.isoformat()}",
            {"deliveredAt": delivered_at.isoformat(), "windowClosesAt": closes_at.isoformat(),
             "disputeWindowDays": days},
        )


async def open_dispute(actor: Actor, data: DisputeCreate) -> DisputeView:
    """The buyer disputes a paid order: one transaction inserts the dispute (one open per
    order, by a unique index), freezes the escrow and writes the audit entries."""
    order = await orders_service.get_order(data.order_id)
    if order.buyer_id != actor.id:
        raise DisputedOrderNotFound
    _check_disputable(order)
    payment = await payments_service.get_payment(order.payment_id) if order.payment_id else None
    if payment is None or payment.escrow_status is EscrowStatus.PENDING:
        raise OrderNotDisputable("The order's payment is not held in escrow",
                                 {"escrowStatus": payment.escrow_status.value if payment else None})
    dispute = Dispute(
        order_id=order.id, payment_id=payment.id, buyer_id=order.buyer_id,
        dealer_id=order.dealer_id, reason=data.reason, details=data.details,
        open_key=order.id, amount_in_dispute=payments_service.held_amount(payment),
        escrow_status_before=payment.escrow_status.value,
    )
    document = {"_id": dispute.id,
                **dispute.model_dump(exclude={"id", "revision_id"}),
                "status_history": [_history(None, DisputeAction.OPEN, actor)]}

    async def work(session: Session) -> None:
        await _collection().insert_one(dict(document), session=session)
        await payments_service.freeze_for_dispute(session, payment.id)
        escrow_change = {"from": payment.escrow_status, "to": EscrowStatus.DISPUTED}
        await audit.record(
            session, actor=actor, action="dispute.opened", subject_type="dispute",
            subject_id=dispute.id, reason=data.details,
            changes={"status": {"from": None, "to": DisputeStatus.OPEN},
                     "escrowStatus": escrow_change},
            metadata={"orderId": order.id, "paymentId": payment.id,
                      "reason": data.reason.value, "amountInDispute": dispute.amount_in_dispute},
        )
        await audit.record(
            session, actor=actor, action="payment.dispute_frozen", subject_type="payment",
            subject_id=payment.id, reason=f"Dispute {dispute.id} opened",
            changes={"escrowStatus": escrow_change}, metadata={"disputeId": dispute.id},
        )

    try:
        await transaction(work)
    except DuplicateKeyError:
        existing = await _collection().find_one({"open_key": order.id}, {"_id": 1})
        raise DisputeAlreadyOpen(
            data={"disputeId": existing["_id"] if existing else None, "orderId": order.id}
        ) from None
    return await get_visible(actor, dispute.id)


async def refuse_cancelling_disputed_order(session: Session, order: Order) -> None:
    """Orders' cancellation hook: a disputed order's money moves only by the resolution."""
    open_dispute_doc = await _collection().find_one(
        {"open_key": order.id}, {"_id": 1}, session=session
    )
    if open_dispute_doc is not None:
        raise IllegalDisputeTransition(
            "The order has an open dispute: an admin resolves it instead of a cancellation",
            {"disputeId": open_dispute_doc["_id"], "status": order.status.value},
        )


# --- evidence notes ---------------------------------------------------------------------


def _note_role(parties: frozenset[NoteAuthor]) -> NoteAuthor:
    for role in (NoteAuthor.BUYER, NoteAuthor.DEALER, NoteAuthor.ADMIN):
        if role in parties:
            return role
    raise DisputeActionForbidden("Only the buyer, the dealer and dispute admins add notes")


async def add_note(actor: Actor, dispute_id: str, text: str) -> DisputeView:
    """An evidence note by the buyer, the order's dealer or a dispute admin (audited)."""
    viewer = await _viewer(actor)
    dispute = await _visible(viewer, dispute_id)
    role = _note_role(viewer.parties(dispute))
    await _push_note(actor, dispute, role, text)
    return await get_visible(actor, dispute_id)


async def add_admin_note(actor: Actor, dispute_id: str, text: str) -> DisputeView:
    dispute = await _get(dispute_id)
    await _push_note(actor, dispute, NoteAuthor.ADMIN, text)
    return await get_visible(actor, dispute_id)


def _refuse_resolved(dispute: Dispute, what: str) -> IllegalDisputeTransition:
    return IllegalDisputeTransition(
        f"The dispute is {dispute.status.value}: {what}",
        {"status": dispute.status.value,
         "resolution": dispute.resolution.resolution.value if dispute.resolution else None,
         "allowedActions": []},
    )


async def _push_note(actor: Actor, dispute: Dispute, role: NoteAuthor, text: str) -> None:
    if not accepts_notes(dispute.status):
        raise _refuse_resolved(dispute, "notes can no longer be added")
    note = DisputeNote(author_id=actor.id, role=role, text=text)

    async def work(session: Session) -> None:
        result = await _collection().update_one(
            {"_id": dispute.id, "status": {"$in": UNRESOLVED},
             f"notes.{MAX_NOTES - 1}": {"$exists": False}},
            {"$push": {"notes": note.model_dump()}, "$set": {"updated_at": clock.utcnow()},
             "$inc": {"version": 1}},
            session=session,
        )
        if result.modified_count != 1:
            fresh = await _load(dispute.id, session)
            if fresh is not None and not accepts_notes(fresh.status):
                raise _refuse_resolved(fresh, "notes can no longer be added")
            raise TooManyNotes(data={"maxNotes": MAX_NOTES})
        await audit.record(
            session, actor=actor, action="dispute.note_added", subject_type="dispute",
            subject_id=dispute.id, reason=text,
            metadata={"noteId": note.id, "role": role.value, "orderId": dispute.order_id},
        )

    await transaction(work)


# --- resolution ---------------------------------------------------------------------------


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
    dispute = await _get(dispute_id)
    if dispute.status is DisputeStatus.RESOLVED:
        raise _refuse_resolved(dispute, "it was resolved already")
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
    if payment.escrow_status is not EscrowStatus.DISPUTED:
        raise IllegalDisputeTransition(
            f"The escrow is {payment.escrow_status.value}, not frozen for this dispute",
            {"escrowStatus": payment.escrow_status.value},
        )
    held = payments_service.held_amount(payment)
    refund, release = _amounts(data, held)
    record = ResolutionRecord(
        resolution=data.resolution, note=data.note, decided_by=actor.id, decided_at=clock.utcnow(),
        requested_buyer_amount=data.buyer_amount, held_at_decision=held,
        refund_amount=refund, release_amount=release,
        refund_id=_refund_id(dispute.id, 1) if refund else None,
    )

    async def work(session: Session) -> bool:
        result = await _collection().update_one(
            {"_id": dispute.id, "status": DisputeStatus.OPEN.value},
            {"$set": {"status": DisputeStatus.RESOLVING.value, "resolution": record.model_dump(),
                      "updated_at": clock.utcnow()},
             "$push": {"status_history": _history(DisputeStatus.OPEN, DisputeAction.RESOLVE,
                                                  actor)},
             "$inc": {"version": 1}},
            session=session,
        )
        if result.modified_count != 1:
            return False
        await audit.record(
            session, actor=actor, action="dispute.resolution_started", subject_type="dispute",
            subject_id=dispute.id, reason=data.note,
            changes={"status": {"from": DisputeStatus.OPEN, "to": DisputeStatus.RESOLVING}},
            metadata={"resolution": data.resolution.value, "held": held,
                      "refundAmount": refund, "releaseAmount": release,
                      "paymentId": dispute.payment_id},
        )
        return True

    if not await transaction(work):
        fresh = await _get(dispute.id)
        if fresh.status is DisputeStatus.RESOLVING and _same_decision(fresh.resolution, data):
            return fresh
        if fresh.status is DisputeStatus.RESOLVED:
            raise _refuse_resolved(fresh, "it was resolved already")
        raise _being_resolved(fresh)
    return await _get(dispute.id)


async def _carry_out(actor: Actor, dispute: Dispute) -> Dispute:
    record = dispute.resolution
    assert record is not None
    if record.refund_amount > 0:
        dispute = await _refund_step(actor, dispute)
    if record.release_amount > 0:
        await _release_step(actor, dispute)
    return await _complete(actor, dispute)


async def _refund_step(actor: Actor, dispute: Dispute) -> Dispute:
    """Refund the buyer's amount once: the refund id is fixed per attempt, and a refund the
    gateway refused (its money already back in escrow) is retried under the next id."""
    record = dispute.resolution
    assert record is not None and record.refund_id is not None
    reason = f"Dispute {dispute.id} ({record.resolution.value}): {record.note}"
    refund = await payments_service.refund(actor, dispute.payment_id, record.refund_amount,
                                           reason, resolution=True, refund_id=record.refund_id)
    if refund.status is not RefundStatus.FAILED:
        return dispute
    dispute = await _next_refund_attempt(dispute)
    record = dispute.resolution
    assert record is not None and record.refund_id is not None
    await payments_service.refund(actor, dispute.payment_id, record.refund_amount, reason,
                                  resolution=True, refund_id=record.refund_id)
    return dispute


async def _next_refund_attempt(dispute: Dispute) -> Dispute:
    record = dispute.resolution
    assert record is not None
    attempt = record.refund_attempt + 1
    await _collection().update_one(
        {"_id": dispute.id, "status": DisputeStatus.RESOLVING.value,
         "resolution.refund_attempt": record.refund_attempt},
        {"$set": {"resolution.refund_attempt": attempt,
                  "resolution.refund_id": _refund_id(dispute.id, attempt),
                  "updated_at": clock.utcnow()}},
    )
    return await _get(dispute.id)


async def _release_step(actor: Actor, dispute: Dispute) -> Payment:
    record = dispute.resolution
    assert record is not None
    payment = await payments_service.get_payment(dispute.payment_id)
    if payment.escrow_status is EscrowStatus.RELEASED:
        return payment
    held = payments_service.held_amount(payment)
    if held != record.release_amount:
        raise IllegalDisputeTransition(
            "The escrow does not hold what the decision releases; nothing was released",
            {"held": held, "releaseAmount": record.release_amount,
             "escrowStatus": payment.escrow_status.value},
        )
    try:
        outcome = await payments_service.release(actor, payment.id, reason=record.note,
                                                 resolution=True)
    except IllegalTransition:
        payment = await payments_service.get_payment(dispute.payment_id)
        if payment.escrow_status is EscrowStatus.RELEASED:
            return payment
        raise
    return outcome.payment


async def _complete(actor: Actor, dispute: Dispute) -> Dispute:
    record = dispute.resolution
    assert record is not None
    payment = await payments_service.get_payment(dispute.payment_id)
    released = payment.amount_released if record.release_amount else 0
    split = payment.commission_breakdown if released else None
    outcome = {
        "refunded_amount": record.refund_amount,
        "released_amount": released,
        "dealer_share": split.dealer_share if split else None,
        "commission": split.commission if split else None,
        "platform_share": split.platform_share if split else None,
    }

    async def work(session: Session) -> None:
        now = clock.utcnow()
        result = await _collection().update_one(
            {"_id": dispute.id, "status": DisputeStatus.RESOLVING.value},
            {"$set": {"status": DisputeStatus.RESOLVED.value, "updated_at": now,
                      "resolution.resolved_at": now,
                      **{f"resolution.{name}": value for name, value in outcome.items()}},
             "$unset": {"open_key": ""},
             "$push": {"status_history": _history(DisputeStatus.RESOLVING,
                                                  DisputeAction.COMPLETE, actor)},
             "$inc": {"version": 1}},
            session=session,
        )
        if result.modified_count != 1:
            return  # another attempt finished it meanwhile
        await audit.record(
            session, actor=actor, action="dispute.resolved", subject_type="dispute",
            subject_id=dispute.id, reason=record.note,
            changes={"status": {"from": DisputeStatus.RESOLVING, "to": DisputeStatus.RESOLVED}},
            metadata={"resolution": record.resolution.value, "decidedBy": record.decided_by,
                      "buyerAmount": record.refund_amount, "refundId": record.refund_id,
                      "releasedAmount": released, "dealerShare": outcome["dealer_share"],
                      "commission": outcome["commission"],
                      "platformShare": outcome["platform_share"],
                      "paymentId": dispute.payment_id, "orderId": dispute.order_id},
        )

    await transaction(work)
    return await _get(dispute.id)


# --- lists ------------------------------------------------------------------------------


async def list_mine(
    actor: Actor, status: DisputeStatus | None, page: PageRequest
) -> tuple[list[DisputeView], str | None]:
    """The disputes the caller opened (buyer) or that concern its orders (dealer)."""
    viewer = await _viewer(actor)
    sides: list[dict[str, Any]] = [{"buyer_id": actor.id}]
    if viewer.dealer_id is not None:
        sides.append({"dealer_id": viewer.dealer_id})
    query: dict[str, Any] = {"$or": sides}
    if status is not None:
        query = {"$and": [query, {"status": status.value}]}
    return await _page(viewer, query, page)


@dataclass(frozen=True)
class DisputeFilter:
    status: DisputeStatus | None = None
    order_id: str | None = None
    dealer_id: str | None = None
    buyer_id: str | None = None

    def query(self) -> dict[str, Any]:
        values = {"status": self.status.value if self.status else None,
                  "order_id": self.order_id, "dealer_id": self.dealer_id,
                  "buyer_id": self.buyer_id}
        return {name: value for name, value in values.items() if value is not None}


async def list_all(
    actor: Actor, filters: DisputeFilter, page: PageRequest
) -> tuple[list[DisputeView], str | None]:
    return await _page(await _viewer(actor), filters.query(), page)


async def _page(
    viewer: Viewer, query: dict[str, Any], page: PageRequest
) -> tuple[list[DisputeView], str | None]:
    docs, next_cursor = await paginate(_collection(), query, page)
    disputes = [Dispute.model_validate(doc) for doc in docs]
    return [DisputeView(d, viewer.allowed_actions(d)) for d in disputes], next_cursor
