"""Request and response models of the repairs API (what the client sends and sees)."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, Field, StrictInt

from app.core.permissions import Actor
from app.core.redaction import ShownActor, shown_actor
from app.core.schemas import APIModel, Paise
from app.core.validators import Pincode, Reason
from app.repairs.imei import masked
from app.repairs.models import (
    IssueType,
    QuoteLineKind,
    QuoteStatus,
    Repair,
    RepairMode,
    RepairStatus,
)


class LatLngIn(APIModel):
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)


class AddressIn(APIModel):
    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str = Field(min_length=1, max_length=80)
    state: str = Field(min_length=1, max_length=80)
    pincode: Pincode


class RepairCreate(APIModel):
    device_brand: str = Field(min_length=1, max_length=60)
    device_model: str = Field(min_length=1, max_length=80)
    imei: str | None = Field(default=None, max_length=32, description="15 digits, Luhn-checked; "
                             "stored encrypted, shown masked (•••••••••••1234)")
    issue_type: IssueType
    issue_description: str = Field(min_length=10, max_length=2000)
    mode: RepairMode = Field(description="hardware repairs are offline only")
    location: LatLngIn | None = Field(default=None, description="required for offline repairs")
    address: AddressIn | None = None
    scheduled_at: AwareDatetime | None = Field(
        default=None, description="between 30 minutes and 14 days ahead")


class AssignmentAction(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    ASSIGN = "assign"
    REASSIGN = "reassign"


class AssignmentIn(APIModel):
    action: AssignmentAction
    technician_id: str | None = Field(default=None, max_length=64,
                                      description="assign / reassign: the technician (tch_…)")
    reason: Reason | None = Field(default=None, description="required to reassign")


class StatusAction(StrEnum):
    START_TRAVEL = "start_travel"
    ARRIVE = "arrive"
    START = "start"
    COMPLETE = "complete"
    CANCEL = "cancel"


class RepairStatusIn(APIModel):
    action: StatusAction
    reason: Reason | None = Field(default=None, description="required of technicians and "
                                  "admins who cancel")
    resolution_notes: str | None = Field(default=None, min_length=3, max_length=2000,
                                         description="required to complete")


class LatLngRead(APIModel):
    lat: float
    lng: float


class AddressRead(APIModel):
    line1: str
    line2: str | None = None
    city: str
    state: str
    pincode: str


class OfferRead(APIModel):
    technician_id: str
    expires_at: datetime


class QuoteLineRead(APIModel):
    description: str
    kind: QuoteLineKind
    amount: Paise
    order_id: str | None = None


class QuoteRead(APIModel):
    lines: list[QuoteLineRead]
    total: Paise = Field(description="the sum of the lines")
    status: QuoteStatus
    proposed_at: datetime
    accepted_at: datetime | None = None


class StatusChangeRead(APIModel):
    from_status: RepairStatus | None
    to_status: RepairStatus
    action: str
    reason: str | None = None
    technician_id: str | None = None
    by: ShownActor
    at: datetime


class RepairRead(APIModel):
    id: str
    customer_id: str
    device_brand: str
    device_model: str
    imei: str | None = Field(description="masked: 11 bullets and the last 4 digits")
    issue_type: IssueType
    issue_description: str
    mode: RepairMode
    location: LatLngRead | None
    address: AddressRead | None
    scheduled_at: datetime | None
    status: RepairStatus
    status_history: list[StatusChangeRead]
    offer: OfferRead | None = Field(description="while offered: who, and until when")
    technician_id: str | None = Field(description="the technician (tch_…) once accepted")
    quote: QuoteRead | None
    payment_id: str | None
    order_ids: list[str]
    cancellation_fee: Paise
    resolution_notes: str | None
    allowed_actions: list[str] = Field(default_factory=list)
    accepted_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, repair: Repair, viewer: Actor | None,
           allowed_actions: list[str] | None = None) -> "RepairRead":
        """The job as `viewer` sees it: the IMEI masked, admins' ids for admins only."""
        data = {name: getattr(repair, name) for name in cls.model_fields
                if name not in ("imei", "allowed_actions") and hasattr(repair, name)}
        read = cls.model_validate({**data, "imei": masked(repair.imei_last4),
                                   "allowed_actions": allowed_actions or []})
        for shown, entry in zip(read.status_history, repair.status_history, strict=True):
            shown.by = shown_actor(viewer, entry.by, by_admin=entry.role == "admin")
        return read


# --- the payment terminal -----------------------------------------------------------------

MAX_QUOTE_LINES = 50
# Positive integer paise; StrictInt refuses 1.5, "100" and true (422).
QuoteAmount = Annotated[StrictInt, Field(gt=0, le=10**10, description="Paise")]


class QuoteLineIn(APIModel):
    description: str = Field(min_length=1, max_length=200)
    kind: QuoteLineKind
    amount: QuoteAmount
    order_id: str | None = Field(
        default=None, min_length=1, max_length=64,
        description="part lines only: a paid parts order the technician bought for this job",
    )


class QuoteIn(APIModel):
    lines: list[QuoteLineIn] = Field(min_length=1, max_length=MAX_QUOTE_LINES)
