"""Beanie documents of this domain: payout accounts and payouts."""

from datetime import datetime
from enum import StrEnum

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.core import clock
from app.core.ids import new_id


def mask_account_number(number: str) -> str:
    """What every response shows of a bank account number: its last four digits only."""
    return "XXXXXX" + number[-4:]


class RecipientType(StrEnum):
    DEALER = "dealer"
    TECHNICIAN = "technician"


class PayoutAccountStatus(StrEnum):
    PENDING_VERIFICATION = "pending_verification"
    VERIFIED = "verified"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"


class AccountStatusChange(BaseModel):
    from_status: PayoutAccountStatus | None
    to_status: PayoutAccountStatus
    action: str
    by: str
    reason: str | None = None
    at: datetime = Field(default_factory=clock.utcnow)


class PayoutAccount(Document):
    """A recipient's bank account. Only the latest registration is `active`; payouts go to it
    once a finance admin has verified it. The full number is kept only sealed (AES-GCM, see
    `crypto`), opened only to register it with the payout provider, and never returned,
    audited or logged (`accountNumberMasked` is)."""

    id: str = Field(default_factory=lambda: new_id("pac"))
    recipient_id: str
    recipient_type: RecipientType = RecipientType.DEALER
    owner_user_id: str
    holder_name: str
    account_number_sealed: str = Field(repr=False)
    account_number_masked: str
    ifsc: str
    status: PayoutAccountStatus = PayoutAccountStatus.PENDING_VERIFICATION
    active: bool = True
    status_history: list[AccountStatusChange] = Field(default_factory=list)
    superseded_by: str | None = None
    # The recipient's account this registration replaced (None: its first account), and
    # whether that one had been paid to: the fraud check of payouts to a changed account.
    replaces: str | None = None
    replaced_paid_account: bool = False
    # The provider's contact and fund account for this bank account, once registered there.
    provider_contact_id: str | None = None
    provider_fund_account_id: str | None = None
    version: int = 1
    created_at: datetime = Field(default_factory=clock.utcnow)
    updated_at: datetime = Field(default_factory=clock.utcnow)

    @property
    def payable_to(self) -> bool:
        return self.active and self.status is PayoutAccountStatus.VERIFIED

    class Settings:
        name = "payout_accounts"
        indexes = [
            IndexModel(
                [("recipient_id", ASCENDING)], unique=True, name="one_active_account_per_recipient",
                partialFilterExpression={"active": True},
            ),
            IndexModel(
                [("recipient_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                name="by_recipient",
            ),
            IndexModel(
                [("status", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                name="by_status",
            ),
            IndexModel([("created_at", DESCENDING), ("_id", DESCENDING)], name="newest"),
        ]


class PayoutStatus(StrEnum):
    # Held by the fraud checks (its money reserved) until an ops admin approves or rejects it.
    ON_REVIEW = "on_review"
    SCHEDULED = "scheduled"
    PROCESSING = "processing"
    PAID = "paid"
    FAILED = "failed"
    # Rejected on review: its money went back to the payable balance; final.
    REJECTED = "rejected"


class PayoutAction(StrEnum):
    CREATE = "create"
    HOLD = "hold"  # created on review
    APPROVE = "approve"
    REJECT = "reject"
    START = "start"
    COMPLETE = "complete"
    FAIL = "fail"
    RETRY = "retry"


class PayoutSource(StrEnum):
    MANUAL = "manual"
    BATCH = "batch"


class PayoutStatusChange(BaseModel):
    from_status: PayoutStatus | None
    to_status: PayoutStatus
    action: PayoutAction
    attempt: int
    by: str
    reason: str | None = None
    at: datetime = Field(default_factory=clock.utcnow)


class Payout(Document):
    id: str = Field(default_factory=lambda: new_id("pout"))
    recipient_id: str
    recipient_type: RecipientType = RecipientType.DEALER
    account_id: str
    account_number_masked: str
    ifsc: str
    amount: int
    status: PayoutStatus = PayoutStatus.SCHEDULED
    attempt: int = 1
    provider_transfer_id: str | None = None
    provider_status: str | None = None
    failure_reason: str | None = None
    # The fraud rules that fired when it was requested (app/risk); set, it was held on review.
    risk_flags: list[str] = Field(default_factory=list)
    source: PayoutSource = PayoutSource.MANUAL
    requested_by: str
    status_history: list[PayoutStatusChange] = Field(default_factory=list)
    version: int = 1
    paid_at: datetime | None = None
    created_at: datetime = Field(default_factory=clock.utcnow)
    updated_at: datetime = Field(default_factory=clock.utcnow)

    class Settings:
        name = "payouts"
        indexes = [
            IndexModel(
                [("recipient_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                name="by_recipient",
            ),
            IndexModel(
                [("recipient_id", ASCENDING), ("status", ASCENDING),
                 ("created_at", DESCENDING), ("_id", DESCENDING)],
                name="by_recipient_status",
            ),
            IndexModel(
                [("status", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                name="by_status",
            ),
            IndexModel([("status", ASCENDING), ("updated_at", ASCENDING)], name="unsettled"),
            IndexModel([("created_at", DESCENDING), ("_id", DESCENDING)], name="newest"),
        ]


DOCUMENTS: list[type] = [PayoutAccount, Payout]
