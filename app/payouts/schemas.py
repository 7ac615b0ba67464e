import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StrictInt

from app.core.permissions import SYSTEM_ACTOR, Actor
from app.core.redaction import ShownActor, shown_actor
from app.core.schemas import APIModel
from app.core.validators import Reason
from app.payouts.models import (
    PayoutAccountStatus,
    PayoutAction,
    PayoutSource,
    PayoutStatus,
    RecipientType,
)

IFSC_PATTERN = re.compile(r"^[A-Z]{4}0[A-Z0-9]{6}$")
ACCOUNT_NUMBER_PATTERN = r"^[0-9]{9,18}$"
# ₹1,000 crore: far above any payout, far below what a BSON int64 holds.
MAX_PAYOUT_PAISE = 10**13


def _ifsc(value: str) -> str:
    value = value.upper()
    if not IFSC_PATTERN.match(value):
        raise ValueError("not a valid IFSC (4 letters, then 0, then 6 letters or digits)")
    return value


Ifsc = Annotated[
    str, AfterValidator(_ifsc),
    Field(description="11 characters: 4 letters, 0, then 6 letters or digits",
          examples=["HDFC0001234"]),
]


class PayoutAccountCreate(APIModel):
    holder_name: str = Field(min_length=2, max_length=100)
    account_number: str = Field(
        pattern=ACCOUNT_NUMBER_PATTERN, description="9 to 18 digits; never shown again in full",
        examples=["123456781234"],
    )
    ifsc: Ifsc


class VerificationAction(StrEnum):
    VERIFY = "verify"
    REJECT = "reject"


class PayoutAccountVerification(APIModel):
    action: VerificationAction
    reason: Reason | None = Field(default=None, description="Required to reject")


class AccountStatusChangeRead(APIModel):
    from_status: PayoutAccountStatus | None
    to_status: PayoutAccountStatus
    action: str
    by: ShownActor = Field(description="Who acted; an admin as {role: admin} to anyone but admins")
    reason: str | None = None
    at: datetime


# A payout account's own dealer or technician registers (and so supersedes) it; admins decide the rest.
OWNER_ACCOUNT_ACTIONS = frozenset({"register", "supersede"})


class PayoutAccountRead(APIModel):
    """A payout account as every response shows it: the number masked to its last 4 digits."""

    id: str
    recipient_id: str
    recipient_type: RecipientType
    holder_name: str
    account_number_masked: str = Field(examples=["XXXXXX1234"])
    ifsc: str
    status: PayoutAccountStatus
    active: bool
    superseded_by: str | None = None
    status_history: list[AccountStatusChangeRead]
    created_at: datetime
    updated_at: datetime

    def shown_to(self, viewer: Actor | None) -> "PayoutAccountRead":
        """This account as `viewer` sees it: admins' ids for admins only."""
        for entry in self.status_history:
            if isinstance(entry.by, str):
                entry.by = shown_actor(viewer, entry.by,
                                       by_admin=entry.action not in OWNER_ACCOUNT_ACTIONS)
        return self


class PayoutCreate(APIModel):
    recipient_id: str = Field(
        min_length=1, max_length=64,
        description="The payee's id: a dealer (dlr_…) or a technician (tch_…)",
    )
    amount: StrictInt | None = Field(
        default=None, gt=0, le=MAX_PAYOUT_PAISE,
        description="Paise; omitted: the recipient's whole payable balance",
    )


class PayoutStatusChangeRead(APIModel):
    from_status: PayoutStatus | None
    to_status: PayoutStatus
    action: PayoutAction
    attempt: int
    by: ShownActor = Field(description="Who acted; an admin as {role: admin} to anyone but admins")
    reason: str | None = None
    at: datetime


class PayoutRead(APIModel):
    id: str
    recipient_id: str
    recipient_type: RecipientType
    account_id: str
    account_number_masked: str
    ifsc: str
    amount: int = Field(description="Paise")
    status: PayoutStatus
    attempt: int
    provider_transfer_id: str | None = Field(default=None, description="RazorpayX's payout id")
    provider_status: str | None = Field(
        default=None, description="RazorpayX's last reported status (processing, processed, "
        "reversed, failed…); the payout is paid only once it is processed",
    )
    failure_reason: str | None = None
    risk_flags: list[str] = Field(
        default_factory=list,
        description="Fraud rules that fired when it was requested (on_review until an ops "
                    "admin decides); admins only")
    source: PayoutSource
    requested_by: ShownActor = Field(
        description="The finance admin who paid out (its id for admins only), or `system`"
    )
    status_history: list[PayoutStatusChangeRead]
    allowed_actions: list[str] = Field(default_factory=list)
    paid_at: datetime | None = None
    created_at: datetime
    updated_at: datetime

    def shown_to(self, viewer: Actor | None) -> "PayoutRead":
        """This payout as `viewer` sees it: every actor of a payout but the system is an admin
        (recipients never act on payouts), so their ids are for admins only."""
        if viewer is None or not viewer.is_admin:
            self.risk_flags = []
        if isinstance(self.requested_by, str):
            self.requested_by = shown_actor(viewer, self.requested_by,
                                            by_admin=self.requested_by != SYSTEM_ACTOR.id)
        for entry in self.status_history:
            if isinstance(entry.by, str):
                entry.by = shown_actor(viewer, entry.by, by_admin=entry.by != SYSTEM_ACTOR.id)
        return self


class LedgerEntryRead(APIModel):
    id: str
    transaction_id: str
    account: str
    amount: int = Field(description="Paise; positive credits the account, negative debits it")
    created_at: datetime


class RecipientBalance(APIModel):
    recipient_id: str
    payable: int = Field(description="Paise owed to the recipient and not yet paid out")
    receivable: int = Field(
        description="Paise the recipient owes the platform (refunds after release its payable "
        "could not cover), recovered from its next payouts"
    )
    available: int = Field(
        description="Paise a payout can take now: payable minus receivable, never below zero"
    )
    pending_escrow: int = Field(description="Paise captured for the recipient, still in escrow")
    in_transit: int = Field(description="Paise reserved by payouts not yet settled")
    paid_out: int = Field(description="Paise paid out to the recipient so far")
    entries: list[LedgerEntryRead] = Field(
        description="The latest ledger entries of the payable, in-transit and receivable "
        "accounts"
    )


def entry_read(entry: dict[str, Any]) -> LedgerEntryRead:
    return LedgerEntryRead(
        id=entry["_id"], transaction_id=entry["transaction_id"], account=entry["account"],
        amount=entry["amount"], created_at=entry["created_at"],
    )
