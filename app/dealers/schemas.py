"""Request and response models of the dealers API (what the client sends and sees)."""

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from app.core.permissions import Actor
from app.core.redaction import ShownActor, shown_actor
from app.core.schemas import APIModel
from app.core.validators import Gstin, Pan, Phone, Pincode, Reason
from app.dealers.models import Dealer, DealerStatus


class AddressIn(APIModel):
    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    state: str = Field(min_length=1, max_length=100)
    pincode: Pincode


class ComplianceDocIn(APIModel):
    type: str = Field(min_length=2, max_length=50, description="e.g. gst_certificate, trade_license")
    number: str = Field(min_length=1, max_length=100)
    file_ref: str | None = Field(default=None, max_length=500)


class DealerCreate(APIModel):
    business_name: str = Field(min_length=2, max_length=200)
    gstin: Gstin
    pan: Pan | None = None
    address: AddressIn
    contact_phone: Phone
    compliance_docs: list[ComplianceDocIn] = Field(default_factory=list, max_length=20)


class DealerAction(StrEnum):
    APPROVE = "approve"
    SUSPEND = "suspend"
    BLOCK = "block"
    REINSTATE = "reinstate"


class DealerStatusIn(APIModel):
    action: DealerAction
    reason: Reason | None = None
    override: bool = Field(
        default=False,
        description="ops_lead override: reinstating a blocked dealer; needs a reason, audited as such",
    )


class CommissionTierIn(APIModel):
    tier: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")
    reason: Reason | None = None


class PublicAddress(APIModel):
    city: str
    state: str


class DealerPublic(APIModel):
    """What anyone may see of an approved dealer."""

    id: str
    business_name: str
    status: DealerStatus
    address: PublicAddress
    created_at: datetime


class AddressRead(APIModel):
    line1: str
    line2: str | None = None
    city: str
    state: str
    pincode: str


class ComplianceDocRead(APIModel):
    type: str
    number: str
    file_ref: str | None = None


class StatusChangeRead(APIModel):
    from_status: DealerStatus | None
    to_status: DealerStatus
    action: str
    reason: str | None = None
    by: ShownActor = Field(description="The account that acted; an admin as {role: admin} "
                                        "to anyone but admins")
    override: bool
    at: datetime


class DealerRead(DealerPublic):
    """The owner's and admins' view, with compliance data and status history."""

    user_id: str
    gstin: str
    pan: str | None = None
    address: AddressRead  # type: ignore[assignment]
    contact_phone: str
    compliance_docs: list[ComplianceDocRead]
    commission_tier: str
    status_history: list[StatusChangeRead]
    updated_at: datetime

    @classmethod
    def of(cls, dealer: Dealer, viewer: Actor | None) -> "DealerRead":
        """The profile as `viewer` (its owner or an admin) sees it: admins' ids for admins only."""
        read = cls.model_validate(dealer)
        for shown, entry in zip(read.status_history, dealer.status_history, strict=True):
            # Every move but the owner's own submission is an admin's.
            shown.by = shown_actor(viewer, entry.by, by_admin=entry.by != dealer.user_id)
        return read
