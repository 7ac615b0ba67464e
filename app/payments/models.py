"""Payments held in escrow, their refunds, and the gateway events already applied."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.core import clock
from app.core.ids import new_id
from app.core.indexes import string_keyed


class PaymentStatus(StrEnum):
    CREATED = "created"
    CAPTURED = "captured"
    FAILED = "failed"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


class EscrowStatus(StrEnum):
    PENDING = "pending"  # nothing captured yet
    HELD = "held"
    ON_HOLD = "on_hold"  # a finance admin froze it by hand
    DISPUTED = "disputed"
    RELEASED = "released"
    REFUNDED = "refunded"


class PayableType(StrEnum):
    ORDER = "order"
    REPAIR = "repair"  # a repair job's accepted quote, paid to its technician (tch_…)


class CommissionBreakdown(BaseModel):
    rate_bps: int
    commission: int
    dealer_share: int
    platform_share: int


class ManualHold(BaseModel):
    reason: str
    by: str
    at: datetime


class ReleaseApproval(BaseModel):
    """The first of two finance approvals a high-value release needs."""

    requested_by: str
    requested_at: datetime
    # Set when the first approval is a dispute's resolution (release_to_dealer above the
    # threshold): a finance admin's release of the disputed escrow completes it.
    dispute_id: str | None = None
    reason: str | None = None


class Payment(Document):
    id: str = Field(default_factory=lambda: new_id("pay"))
    payable_type: PayableType
    payable_id: str
    payer_id: str
    payee_id: str
    amount: int
    subtotal: int
    delivery_charge: int
    service_fee: int
    currency: str = "INR"
    status: PaymentStatus = PaymentStatus.CREATED
    escrow_status: EscrowStatus = EscrowStatus.PENDING
    commission_breakdown: CommissionBreakdown
    gateway_order_id: str
    gateway_payment_id: str | None = None
    # Set only while `created` (unique among strings: see app/core/indexes.py), so concurrent
    # starts open one payment per payable.
    awaiting_capture_of: str | None = None
    amount_captured: int = 0
    amount_refunded: int = 0
    refunded_from_escrow: int = 0
    refunds_in_flight: int = 0
    amount_released: int = 0
    # Of the refunds after release: the part taken back from the platform's share.
    platform_refunded: int = 0
    failure_reason: str | None = None
    # Fraud rules that fired on its capture or a refund of it (app/risk): alerted, not held.
    risk_flags: list[str] = Field(default_factory=list)
    hold: ManualHold | None = None
    release_approval: ReleaseApproval | None = None
    captured_at: datetime | None = None
    released_at: datetime | None = None
    # When the SLA job last asked the gateway about this payment (a failed one may still be
    # captured by a later attempt on its gateway order).
    gateway_checked_at: datetime | None = None
    version: int = 1
    created_at: datetime = Field(default_factory=clock.utcnow)
    updated_at: datetime = Field(default_factory=clock.utcnow)

    class Settings:
        name = "payments"
        indexes = [
            IndexModel([("gateway_order_id", ASCENDING)], unique=True, name="gateway_order"),
            IndexModel([("awaiting_capture_of", ASCENDING)], unique=True,
                       **string_keyed("awaiting_capture_of"),
                       name="one_awaiting_capture_per_payable"),
            IndexModel([("payable_type", ASCENDING), ("payable_id", ASCENDING),
                        ("created_at", DESCENDING)], name="by_payable"),
            IndexModel([("payer_id", ASCENDING), ("created_at", DESCENDING),
                        ("_id", DESCENDING)], name="by_payer"),
            # The fraud checks' payer figures: failed payments of the last hour, refund ratio.
            IndexModel([("payer_id", ASCENDING), ("status", ASCENDING),
                        ("created_at", DESCENDING)], name="by_payer_status"),
            IndexModel([("payee_id", ASCENDING), ("created_at", DESCENDING),
                        ("_id", DESCENDING)], name="by_payee"),
            IndexModel([("status", ASCENDING), ("created_at", ASCENDING)], name="by_status"),
            IndexModel([("escrow_status", ASCENDING), ("captured_at", ASCENDING)],
                       name="by_escrow"),
            IndexModel([("created_at", DESCENDING), ("_id", DESCENDING)], name="newest"),
        ]


class RefundStatus(StrEnum):
    PENDING = "pending"
    PROCESSED = "processed"
    FAILED = "failed"


class Refund(Document):
    """A refund to the buyer; its money left escrow (or, after release, the dealer's payable
    and the platform's revenue pro rata) when it was made, into the payment's refunds in
    flight, and leaves those for good when the gateway reports it processed."""

    id: str = Field(default_factory=lambda: new_id("rfd"))
    payment_id: str
    amount: int
    reason: str
    source_account: str
    # Unset on refunds made before refunds in flight were booked apart (straight to REFUNDS).
    in_flight_account: str | None = None
    # A refund after release: the platform's pro-rata part, and the part of the dealer's
    # share its payable could not cover, which the dealer now owes (its receivable).
    platform_part: int = 0
    receivable_part: int = 0
    status: RefundStatus = RefundStatus.PENDING
    gateway_refund_id: str | None = None
    failure_reason: str | None = None
    requested_by: str
    # When the SLA job last asked the gateway about this refund (its webhook may be lost).
    gateway_checked_at: datetime | None = None
    created_at: datetime = Field(default_factory=clock.utcnow)
    updated_at: datetime = Field(default_factory=clock.utcnow)

    class Settings:
        name = "refunds"
        indexes = [
            IndexModel([("payment_id", ASCENDING), ("created_at", ASCENDING)], name="by_payment"),
            # Partial, not sparse: a sparse index still holds explicit nulls, so a second
            # refund not yet (or never) known to the gateway could not be inserted.
            IndexModel([("gateway_refund_id", ASCENDING)], unique=True,
                       partialFilterExpression={"gateway_refund_id": {"$gt": ""}},
                       name="gateway_refund_known"),
            IndexModel([("status", ASCENDING), ("created_at", ASCENDING)], name="by_status"),
        ]


class GatewayEvent(Document):
    """A webhook event already applied; its id is Razorpay's X-Razorpay-Event-Id."""

    id: str
    event: str
    received_at: datetime = Field(default_factory=clock.utcnow)
    outcome: str
    detail: dict[str, Any] = Field(default_factory=dict)

    class Settings:
        name = "gateway_events"


DOCUMENTS: list[type] = [Payment, Refund, GatewayEvent]
# Indexes replaced above, dropped at start-up from databases created before (the sparse ones
# refused a second document holding null).
RETIRED_INDEXES: dict[str, tuple[str, ...]] = {
    "payments": ("one_open_payment_per_payable",),
    "refunds": ("gateway_refund",),
}
