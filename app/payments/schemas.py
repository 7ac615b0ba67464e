from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from app.core.permissions import Actor
from app.core.redaction import ShownActor, shown_actor
from app.core.schemas import APIModel
from app.core.validators import Reason
from app.payments.models import EscrowStatus, PayableType, PaymentStatus, RefundStatus

MAX_PAISE = 10**10


class PaymentCreate(APIModel):
    """Exactly one of `orderId` (an order) and `repairId` (a repair job's accepted quote)."""

    order_id: str | None = Field(default=None, min_length=1, max_length=64)
    repair_id: str | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _exactly_one(self) -> "PaymentCreate":
        if (self.order_id is None) == (self.repair_id is None):
            raise ValueError("give exactly one of orderId and repairId")
        return self

    @property
    def payable(self) -> tuple[PayableType, str]:
        if self.repair_id is not None:
            return PayableType.REPAIR, self.repair_id
        assert self.order_id is not None
        return PayableType.ORDER, self.order_id


class CheckoutResult(BaseModel):
    """What Razorpay Checkout's handler returns, field names as Razorpay sends them."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    razorpay_order_id: str = Field(min_length=1, max_length=64)
    razorpay_payment_id: str = Field(min_length=1, max_length=64)
    razorpay_signature: str = Field(min_length=1, max_length=256)


class CommissionBreakdownRead(APIModel):
    rate_bps: int
    commission: int
    dealer_share: int
    platform_share: int


class ManualHoldRead(APIModel):
    reason: str
    by: ShownActor = Field(description="The finance admin's id, for admins only")
    at: datetime


class ReleaseApprovalRead(APIModel):
    requested_by: ShownActor = Field(description="The first approver's id, for admins only")
    requested_at: datetime
    dispute_id: str | None = Field(
        default=None, description="The dispute whose resolution is the first approval")


class PaymentRead(APIModel):
    id: str
    order_id: str | None = None
    repair_id: str | None = None
    payable_type: PayableType
    payable_id: str
    payer_id: str
    payee_id: str
    amount: int
    currency: str
    status: PaymentStatus
    escrow_status: EscrowStatus
    commission_breakdown: CommissionBreakdownRead
    gateway_order_id: str
    gateway_payment_id: str | None = None
    amount_captured: int
    amount_refunded: int
    amount_released: int
    failure_reason: str | None = None
    risk_flags: list[str] = Field(
        default_factory=list,
        description="Fraud rules that fired on its capture or a refund (alerted); admins only")
    hold: ManualHoldRead | None = None
    release_approval: ReleaseApprovalRead | None = None
    captured_at: datetime | None = None
    released_at: datetime | None = None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, payment: object, viewer: Actor | None) -> "PaymentRead":
        """The payment as `viewer` sees it: the acting admins' ids for admins only."""
        read = cls.model_validate(payment)
        if viewer is None or not viewer.is_admin:
            read.risk_flags = []
        if read.payable_type is PayableType.ORDER:
            read.order_id = read.payable_id
        elif read.payable_type is PayableType.REPAIR:
            read.repair_id = read.payable_id
        if read.hold is not None and isinstance(read.hold.by, str):
            read.hold.by = shown_actor(viewer, read.hold.by, by_admin=True)
        approval = read.release_approval
        if approval is not None and isinstance(approval.requested_by, str):
            approval.requested_by = shown_actor(viewer, approval.requested_by, by_admin=True)
        return read


class PaymentCheckout(PaymentRead):
    """The payment plus what Razorpay Checkout needs to open."""

    key_id: str


class ReleaseIn(APIModel):
    override: bool = Field(
        default=False, description="ops_lead: release before delivery; needs a reason"
    )
    reason: Reason | None = None


class HoldIn(APIModel):
    hold: bool
    reason: Reason


MIN_REFUND_PAISE = 100


class RefundIn(APIModel):
    # Razorpay refuses refunds under ₹1.00.
    amount: Annotated[StrictInt, Field(ge=MIN_REFUND_PAISE, le=MAX_PAISE,
                                       description="Paise, at least 100 (₹1.00)")]
    reason: Reason


class RefundRead(APIModel):
    id: str
    payment_id: str
    amount: int
    reason: str
    status: RefundStatus
    gateway_refund_id: str | None = None
    failure_reason: str | None = None
    platform_part: int = Field(0, description="Paise of a refund after release taken back "
                               "from the platform's commission, pro rata")
    receivable_part: int = Field(0, description="Paise of the dealer's share its payable could "
                                 "not cover: the dealer owes them (its receivable)")
    requested_by: str
    created_at: datetime


class WebhookAck(APIModel):
    outcome: str


class LedgerViolation(APIModel):
    model_config = ConfigDict(extra="allow")

    rule: str


class LedgerVerification(APIModel):
    valid: bool
    checked_transactions: int
    first_violation: dict[str, object] | None
    violations: list[dict[str, object]]
    checks: list[str] = Field(default_factory=list, description="The invariants checked")
    receivables_owed: dict[str, int] = Field(
        default_factory=dict,
        description="Recipient id → paise it owes the platform (never negative)",
    )
