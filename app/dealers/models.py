"""Beanie documents of this domain, their indexes, and `DOCUMENTS` for init_beanie."""

from datetime import datetime
from enum import StrEnum

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.core import clock
from app.core.ids import new_id


class DealerStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    SUSPENDED = "suspended"
    BLOCKED = "blocked"


class Address(BaseModel):
    line1: str
    line2: str | None = None
    city: str
    state: str
    pincode: str


class ComplianceDoc(BaseModel):
    type: str
    number: str
    file_ref: str | None = None


class StatusChange(BaseModel):
    from_status: DealerStatus | None
    to_status: DealerStatus
    action: str
    reason: str | None = None
    by: str
    override: bool = False
    at: datetime = Field(default_factory=clock.utcnow)


class Dealer(Document):
    id: str = Field(default_factory=lambda: new_id("dlr"))
    user_id: str
    business_name: str
    gstin: str
    pan: str | None = None
    address: Address
    contact_phone: str
    compliance_docs: list[ComplianceDoc] = Field(default_factory=list)
    status: DealerStatus = DealerStatus.PENDING
    commission_tier: str = "standard"
    status_history: list[StatusChange] = Field(default_factory=list)
    version: int = 1
    created_at: datetime = Field(default_factory=clock.utcnow)
    updated_at: datetime = Field(default_factory=clock.utcnow)

    class Settings:
        name = "dealers"
        indexes = [
            IndexModel([("user_id", ASCENDING)], unique=True, name="one_profile_per_account"),
            IndexModel([("gstin", ASCENDING)], unique=True, name="gstin_unique"),
            IndexModel(
                [("status", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                name="by_status",
            ),
            IndexModel([("created_at", DESCENDING), ("_id", DESCENDING)], name="newest"),
            IndexModel([("commission_tier", ASCENDING)], name="by_tier"),
        ]


DOCUMENTS: list[type] = [Dealer]
