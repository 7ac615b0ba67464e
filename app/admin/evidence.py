"""A dispute's evidence in one document: the timeline of its order or repair, the payment with
its refunds and ledger postings, the job's chat transcript with media references, its calls,
the delivery (orders) and the consents and remote sessions (repairs) — each read through its
own domain's service, each item with the `seq` of its audit entry.

An item's entry is found among the entries about its subject: the one of the item's action
(a status change's `order.ship`, a call's `call.accepted`) nearest to the item's time, each
entry given to one item only; a ledger posting gets the payment's entry written in the same
transaction (the nearest within a few seconds)."""

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from app.admin.schemas import (
    AuditRef,
    CallEventItem,
    CallItem,
    ChatEvidence,
    ConsentItem,
    DeliveryEvidence,
    DisputeEvidence,
    LedgerEntryItem,
    LedgerItem,
    MediaRef,
    MessageItem,
    NoteItem,
    PaymentEvidence,
    RefundItem,
    RemoteSessionItem,
    SessionEventItem,
    TimelineItem,
)
from app.audit import service as audit_service
from app.calls import service as calls_service
from app.calls.models import Call
from app.chat import service as chat_service
from app.chat.models import ChatMessage
from app.consent import service as consent_service
from app.consent.models import Consent
from app.core import clock
from app.core.permissions import Actor
from app.disputes import service as disputes_service
from app.disputes.models import Dispute, DisputeAction
from app.disputes.schemas import DisputeRead
from app.media import service as media_service
from app.media.models import Media
from app.orders import service as orders_service
from app.orders.models import Order
from app.payments import reads as payments_reads
from app.payments import service as payments_service
from app.payments.ledger import service as ledger
from app.payments.models import Payment, Refund
from app.repairs import service as repairs_service
from app.repairs.exceptions import RepairNotFound
from app.repairs.models import Repair

# A ledger posting and its payment's audit entry are written in one transaction.
SAME_TRANSACTION = timedelta(seconds=5)
DISPUTE_ACTIONS = {DisputeAction.OPEN: "dispute.opened",
                   DisputeAction.RESOLVE: "dispute.resolution_started",
                   DisputeAction.COMPLETE: "dispute.resolved"}


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class AuditTrail:
    """The audit entries about the evidence's subjects, matched to its items."""

    def __init__(self, entries: Iterable[dict[str, Any]]) -> None:
        self._about: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for entry in sorted(entries, key=lambda e: (e.get("seq") is None, e.get("seq") or 0,
                                                    e["_id"])):
            self._about[entry["subject_id"]].append(entry)
        self._claimed: dict[str, set[str]] = defaultdict(set)

    def refs(self, subject_id: str) -> list[AuditRef]:
        return [AuditRef(seq=e.get("seq"), action=e["action"], actor_id=e["actor_id"],
                         at=e["at"]) for e in self._about.get(subject_id, [])]

    def seq_of(self, subject_id: str, at: datetime, actions: Collection[str] | None = None,
               within: timedelta | None = None, claim: str = "items") -> int | None:
        """The seq of the unclaimed entry about `subject_id` (of one of `actions`) nearest to
        `at` (no further than `within`), claimed so that no other item gets it."""
        claimed = self._claimed[claim]
        candidates = [e for e in self._about.get(subject_id, [])
                      if e["_id"] not in claimed and (actions is None or e["action"] in actions)]
        if not candidates:
            return None
        nearest = min(candidates, key=lambda e: abs(_utc(e["at"]) - _utc(at)))
        if within is not None and abs(_utc(nearest["at"]) - _utc(at)) > within:
            return None
        claimed.add(nearest["_id"])
        return nearest.get("seq")


async def dispute_evidence(actor: Actor, dispute_id: str) -> DisputeEvidence:
    """Everything recorded about the dispute's order or repair (404 for an unknown dispute)."""
    dispute = await disputes_service.get(dispute_id)
    order = await orders_service.get_order(dispute.order_id) if dispute.order_id else None
    repair = await _repair(dispute.repair_id) if dispute.repair_id else None
    job_id = order.id if order is not None else dispute.repair_id or ""
    payment = await payments_service.get_payment(dispute.payment_id)
    refunds = await payments_reads.refunds_of(payment.id)
    postings = await ledger.transactions_of_payment(payment.id)
    chat, messages = await chat_service.transcript(job_id)
    media = await media_service.records(sorted({m for msg in messages for m in msg.media_ids}))
    calls = await calls_service.calls_of_job(job_id)
    consents, sessions, session_events = (await consent_service.job_record(job_id)
                                          if repair is not None else ([], [], {}))
    trail = AuditTrail(await audit_service.entries_about({
        "dispute": [dispute.id], "order" if order is not None else "repair": [job_id],
        "payment": [payment.id], "chat": [job_id],
        "chat_message": [message.id for message in messages],
        "media": [record.id for record in media], "call": [call.id for call in calls],
        "consent": [consent.id for consent in consents],
        "remote_session": [remote.id for remote in sessions],
    }))
    return DisputeEvidence(
        dispute=DisputeRead.of(dispute, [], actor),
        dispute_timeline=_dispute_timeline(dispute, trail),
        notes=[NoteItem(id=note.id, author_id=note.author_id, role=note.role.value,
                        text=note.text, at=note.at,
                        seq=trail.seq_of(dispute.id, note.at, {"dispute.note_added"}))
               for note in dispute.notes],
        subject_type="order" if order is not None else "repair", subject_id=job_id,
        timeline=_order_timeline(order, trail) if order is not None
        else _repair_timeline(repair, trail) if repair is not None else [],
        payment=_payment(payment, trail),
        refunds=[_refund(refund, trail) for refund in refunds],
        ledger=[_posting(posting, payment.id, trail) for posting in postings],
        chat=ChatEvidence(status=chat.status.value if chat else None, audit=trail.refs(job_id),
                          messages=_transcript(messages, media, trail)),
        calls=[_call(call, trail) for call in calls],
        delivery=_delivery(order, trail) if order is not None else None,
        consents=[_consent(consent, trail) for consent in consents],
        remote_sessions=[
            RemoteSessionItem(
                id=remote.id, consent_id=remote.consent_id, status=remote.status.value,
                started_at=remote.started_at, ended_at=remote.ended_at,
                end_reason=remote.end_reason, event_count=remote.event_count,
                last_hash=remote.last_hash, audit=trail.refs(remote.id),
                events=[SessionEventItem(position=event.seq, type=event.type.value,
                                         detail=event.detail, at=event.at, by=event.by,
                                         hash=event.hash)
                        for event in session_events.get(remote.id, [])],
            )
            for remote in sessions
        ],
        assembled_at=clock.utcnow(),
    )


async def _repair(repair_id: str) -> Repair:
    repair = await repairs_service.get_repair(repair_id)
    if repair is None:
        raise RepairNotFound
    return repair


def _dispute_timeline(dispute: Dispute, trail: AuditTrail) -> list[TimelineItem]:
    return [
        TimelineItem(at=change.at, from_status=change.from_status, to_status=change.to_status,
                     action=change.action.value, by=change.by,
                     seq=trail.seq_of(dispute.id, change.at,
                                      {DISPUTE_ACTIONS.get(change.action, "")}))
        for change in dispute.status_history
    ]


def _order_timeline(order: Order, trail: AuditTrail) -> list[TimelineItem]:
    return [
        TimelineItem(at=change.at, from_status=change.from_status, to_status=change.to_status,
                     action=change.action.value, by=change.by, role=change.role.value,
                     reason=change.reason, override=change.override,
                     seq=trail.seq_of(order.id, change.at, {f"order.{change.action.value}"}))
        for change in order.status_history
    ]


def _repair_timeline(repair: Repair, trail: AuditTrail) -> list[TimelineItem]:
    return [
        TimelineItem(at=change.at, from_status=change.from_status, to_status=change.to_status,
                     action=change.action, by=change.by, role=change.role, reason=change.reason,
                     seq=trail.seq_of(repair.id, change.at, {f"repair.{change.action}"}))
        for change in repair.status_history
    ]


def _payment(payment: Payment, trail: AuditTrail) -> PaymentEvidence:
    return PaymentEvidence(
        id=payment.id, status=payment.status.value, escrow_status=payment.escrow_status.value,
        amount=payment.amount, amount_captured=payment.amount_captured,
        amount_refunded=payment.amount_refunded, amount_released=payment.amount_released,
        commission_breakdown=payment.commission_breakdown.model_dump(),
        captured_at=payment.captured_at, released_at=payment.released_at,
        created_at=payment.created_at, audit=trail.refs(payment.id),
    )


def _refund(refund: Refund, trail: AuditTrail) -> RefundItem:
    return RefundItem(
        id=refund.id, amount=refund.amount, reason=refund.reason, status=refund.status.value,
        requested_by=refund.requested_by, created_at=refund.created_at,
        seq=trail.seq_of(refund.payment_id, refund.created_at, {"payment.refunded"}),
    )


def _posting(posting: dict[str, Any], payment_id: str, trail: AuditTrail) -> LedgerItem:
    return LedgerItem(
        id=posting["_id"], kind=posting["kind"], memo=posting.get("memo"),
        entries=[LedgerEntryItem(account=e["account"], amount=e["amount"])
                 for e in posting.get("entries", [])],
        created_at=posting["created_at"],
        seq=trail.seq_of(payment_id, posting["created_at"], within=SAME_TRANSACTION,
                         claim="ledger"),
    )


def _transcript(messages: list[ChatMessage], media: list[Media],
                trail: AuditTrail) -> list[MessageItem]:
    records = {record.id: record for record in media}
    items = []
    for message in messages:
        moderation = trail.refs(message.id)
        items.append(MessageItem(
            id=message.id, sender_id=message.sender_id, sender_role=message.sender_role,
            text=message.text, hidden=message.hidden, hidden_reason=message.hidden_reason,
            created_at=message.created_at, seq=moderation[-1].seq if moderation else None,
            media=[_media(records[media_id], trail) for media_id in message.media_ids
                   if media_id in records],
        ))
    return items


def _media(record: Media, trail: AuditTrail) -> MediaRef:
    return MediaRef(
        id=record.id, kind=record.kind.value, content_type=record.content_type, size=record.size,
        sha256=record.sha256, uploader_id=record.uploader_id, created_at=record.created_at,
        seq=trail.seq_of(record.id, record.created_at, {"media.uploaded"}, claim="media"),
    )


def _call(call: Call, trail: AuditTrail) -> CallItem:
    return CallItem(
        id=call.id, type=call.type.value, status=call.status.value, caller_id=call.caller_id,
        callee_id=call.callee_id, created_at=call.created_at, answered_at=call.answered_at,
        ended_at=call.ended_at, end_reason=call.end_reason,
        events=[CallEventItem(event=event.event, at=event.at, by=event.by,
                              from_status=event.from_status, to_status=event.to_status,
                              via=event.via,
                              seq=trail.seq_of(call.id, event.at, {f"call.{event.event}"}))
                for event in call.events],
    )


def _delivery(order: Order, trail: AuditTrail) -> DeliveryEvidence:
    shipped = [c for c in order.status_history if c.action.value == "ship"]
    delivered = [c for c in order.status_history if c.action.value == "deliver"]
    return DeliveryEvidence(
        address=order.delivery_address.model_dump(by_alias=False), carrier=order.carrier,
        tracking_number=order.tracking_number, shipped_at=order.shipped_at,
        delivered_at=order.delivered_at,
        shipped_seq=trail.seq_of(order.id, shipped[-1].at, {"order.ship"}, claim="delivery")
        if shipped else None,
        delivered_seq=trail.seq_of(order.id, delivered[-1].at, {"order.deliver"},
                                   claim="delivery") if delivered else None,
    )


def _consent(consent: Consent, trail: AuditTrail) -> ConsentItem:
    return ConsentItem(
        id=consent.id, scopes=[scope.value for scope in consent.scopes], purpose=consent.purpose,
        status=consent.status.value, text_sha256=consent.text_sha256,
        requested_at=consent.requested_at, granted_at=consent.granted_at,
        ended_at=consent.ended_at,
        history=[TimelineItem(
            at=change.at, from_status=change.from_status, to_status=change.to_status,
            action=change.action, by=change.by,
            seq=trail.seq_of(consent.id, change.at, {
                "consent.requested" if change.from_status is None
                else f"consent.{change.to_status.value}"}),
        ) for change in consent.history],
    )
