"""What the governance console answers: the approval queue, the overrides, the admin
dashboard, the dealer's and the technician's own dashboards, and a dispute's evidence."""

from datetime import datetime
from typing import Any

from pydantic import Field

from app.catalog.schemas import InventoryItemRead
from app.core.schemas import APIModel, Paise
from app.disputes.schemas import DisputeRead
from app.repairs.schemas import RepairRead


class DecideWith(APIModel):
    method: str = Field(examples=["PATCH"])
    path: str = Field(examples=["/api/dealers/dlr_0123/status"])


class ApprovalItem(APIModel):
    kind: str = Field(description="dealer, technician, b2b_buyer, payout_account")
    subject_id: str
    since: datetime = Field(description="When it started waiting for a decision")
    decide_with: DecideWith = Field(description="The route that decides it")


class OverrideRead(APIModel):
    id: str = Field(description="The audit entry's id")
    action: str
    subject_type: str
    subject_id: str
    reason: str
    actor_id: str
    at: datetime


class EscrowHeld(APIModel):
    count: int = Field(description="Payments whose escrow holds money (held, on hold, disputed)")
    amount: int = Field(description="Paise held in those escrows")


class AdminDashboard(APIModel):
    pending_approvals: dict[str, int] = Field(
        description="Items awaiting an admin decision, per approval kind")
    open_disputes: int = Field(description="Disputes open or being resolved")
    escrow_held: EscrowHeld
    payments_stuck: int = Field(description="Payments still `created` after "
                                            "PAYMENT_STUCK_AFTER_MINUTES")
    open_alerts: int = Field(description="Alerts not acknowledged")
    repairs_unassigned: int = Field(description="Repairs unassigned or awaiting assignment")
    overrides_last_30_days: int = Field(alias="overridesLast30Days",
                                        description="Override rights used in the last 30 days")


class LowStock(APIModel):
    count: int = Field(description="Products with at most `threshold` units available")
    threshold: int
    items: list[InventoryItemRead] = Field(description="The lowest few, fewest available first")


class DealerDashboard(APIModel):
    dealer_id: str
    orders_by_status: dict[str, int] = Field(description="Every order status with its count")
    sales_this_month: Paise = Field(
        description="Total of the orders placed this month (UTC) that were paid and not cancelled")
    payable: Paise = Field(description="What the ledger owes the dealer now (its payable balance)")
    pending_escrow: Paise = Field(description="Captured for its orders, still held in escrow")
    paid_out: Paise = Field(description="The sum of its paid payouts")
    low_stock: LowStock


class RatingFigures(APIModel):
    average: float
    count: int
    distribution: dict[str, int] = Field(description="Ratings per score, \"1\" to \"5\"")


class OfferFigures(APIModel):
    received: int
    accepted: int
    declined: int
    expired: int
    withdrawn: int = Field(description="Taken back: the job was reassigned or cancelled")
    acceptance_rate: float | None = Field(
        description="accepted / received (2 decimals); null before the first offer")


class TechnicianDashboard(APIModel):
    technician_id: str
    live_offer: RepairRead | None = Field(description="The repair offered to you now, if any")
    jobs_by_status: dict[str, int] = Field(description="Every repair status with its count")
    earnings_this_month: Paise = Field(
        description="Released to your payable this month (UTC), after commission")
    payable: Paise = Field(description="What the ledger owes you now (your payable balance)")
    rating: RatingFigures
    offers: OfferFigures


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
