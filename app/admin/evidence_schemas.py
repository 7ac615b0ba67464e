"""The assembled evidence of a dispute: every record of its order or repair, each with the
`seq` of its audit entry (null where none was written, or not chained yet)."""

from datetime import datetime
from typing import Any

from pydantic import Field

from app.core.schemas import APIModel, Paise
from app.disputes.schemas import DisputeRead

SEQ = "The audit entry's seq; null where the audit trail holds none for it (or not yet chained)"


class AuditRef(APIModel):
    seq: int | None = Field(description=SEQ)
    action: str
    actor_id: str
    at: datetime


class TimelineItem(APIModel):
    at: datetime
    from_status: str | None
    to_status: str
    action: str
    by: str
    role: str | None = None
    reason: str | None = None
    override: bool = False
    seq: int | None = Field(description=SEQ)


class NoteItem(APIModel):
    id: str
    author_id: str
    role: str
    text: str
    at: datetime
    seq: int | None = Field(description=SEQ)


class PaymentEvidence(APIModel):
    id: str
    status: str
    escrow_status: str
    amount: Paise
    amount_captured: Paise
    amount_refunded: Paise
    amount_released: Paise
    commission_breakdown: dict[str, int]
    captured_at: datetime | None
    released_at: datetime | None
    created_at: datetime
    audit: list[AuditRef] = Field(description="Every audit entry about the payment, by seq")


class RefundItem(APIModel):
    id: str
    amount: Paise
    reason: str
    status: str
    requested_by: str
    created_at: datetime
    seq: int | None = Field(description=SEQ)


class LedgerEntryItem(APIModel):
    account: str
    amount: Paise = Field(description="> 0 credits the account, < 0 debits it")


class LedgerItem(APIModel):
    id: str = Field(description="The journal transaction's idempotency key")
    kind: str
    entries: list[LedgerEntryItem]
    memo: str | None = None
    created_at: datetime
    seq: int | None = Field(description="The payment's audit entry written with it")


class MediaRef(APIModel):
    id: str
    kind: str
    content_type: str
    size: int = Field(description="Bytes (the content itself: GET /api/media/{mediaId})")
    sha256: str
    uploader_id: str
    created_at: datetime
    seq: int | None = Field(description=SEQ)


class MessageItem(APIModel):
    id: str
    sender_id: str
    sender_role: str
    text: str | None
    media: list[MediaRef]
    hidden: bool
    hidden_reason: str | None = None
    created_at: datetime
    seq: int | None = Field(description="The seq of its latest moderation, if moderated")


class ChatEvidence(APIModel):
    status: str | None = Field(description="The chat's status (null: no chat was opened)")
    audit: list[AuditRef] = Field(description="Status changes of the chat (locks, closes)")
    messages: list[MessageItem]


class CallEventItem(APIModel):
    event: str
    at: datetime
    by: str
    from_status: str | None
    to_status: str
    via: str
    seq: int | None = Field(description=SEQ)


class CallItem(APIModel):
    id: str
    type: str
    status: str
    caller_id: str
    callee_id: str
    created_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    events: list[CallEventItem]


class DeliveryEvidence(APIModel):
    address: dict[str, Any]
    carrier: str | None
    tracking_number: str | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    shipped_seq: int | None = Field(description="The audit seq of the shipment")
    delivered_seq: int | None = Field(description="The audit seq of the delivery")


class ConsentItem(APIModel):
    id: str
    scopes: list[str]
    purpose: str
    status: str
    text_sha256: str
    requested_at: datetime
    granted_at: datetime | None
    ended_at: datetime | None
    history: list[TimelineItem]


class SessionEventItem(APIModel):
    position: int = Field(description="Its place in the session's own hash chain")
    type: str
    detail: str
    at: datetime
    by: str
    hash: str


class RemoteSessionItem(APIModel):
    id: str
    consent_id: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    event_count: int
    last_hash: str
    audit: list[AuditRef] = Field(description="Its opening and ending")
    events: list[SessionEventItem]


class DisputeEvidence(APIModel):
    dispute: DisputeRead
    dispute_timeline: list[TimelineItem]
    notes: list[NoteItem]
    subject_type: str = Field(description="`order` or `repair`")
    subject_id: str
    timeline: list[TimelineItem] = Field(description="The order's or repair's status history")
    payment: PaymentEvidence | None
    refunds: list[RefundItem]
    ledger: list[LedgerItem]
    chat: ChatEvidence
    calls: list[CallItem]
    delivery: DeliveryEvidence | None = Field(description="Orders only")
    consents: list[ConsentItem] = Field(description="Repairs only")
    remote_sessions: list[RemoteSessionItem] = Field(description="Repairs only")
    assembled_at: datetime
