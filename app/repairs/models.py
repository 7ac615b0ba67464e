"""Beanie documents of this domain, their indexes, and `DOCUMENTS` for init_beanie."""

from datetime import datetime
from enum import StrEnum

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.core import clock
from app.core.ids import new_id


class RepairStatus(StrEnum):
    AWAITING_ASSIGNMENT = "awaiting_assignment"
    OFFERED = "offered"
    UNASSIGNED = "unassigned"
    ACCEPTED = "accepted"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


# A technician with a job in one of these is busy: not a matching candidate.
ACTIVE_STATUSES = frozenset({RepairStatus.ACCEPTED, RepairStatus.EN_ROUTE,
                             RepairStatus.ON_SITE, RepairStatus.IN_PROGRESS})


class IssueType(StrEnum):
    HARDWARE = "hardware"
    SOFTWARE = "software"


class RepairMode(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class LatLng(BaseModel):
    lat: float
    lng: float


class Address(BaseModel):
    line1: str
    line2: str | None = None
    city: str
    state: str
    pincode: str


class Offer(BaseModel):
    """The live offer of a job to one technician (`tch_…`)."""

    technician_id: str
    offered_at: datetime
    expires_at: datetime


class QuoteLineKind(StrEnum):
    LABOUR = "labour"
    PART = "part"


class QuoteLine(BaseModel):
    description: str
    kind: QuoteLineKind
    amount: int  # paise
    order_id: str | None = None


class QuoteStatus(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"


class Quote(BaseModel):
    lines: list[QuoteLine]
    total: int  # paise
    status: QuoteStatus = QuoteStatus.PROPOSED
    proposed_at: datetime = Field(default_factory=clock.utcnow)
    accepted_at: datetime | None = None


class StatusChange(BaseModel):
    from_status: RepairStatus | None
    to_status: RepairStatus
    action: str
    reason: str | None = None
    by: str  # the user id of who moved it, or "system"
    # In which capacity (customer, technician, admin, system): admins' ids are shown to admins only.
    role: str | None = None
    technician_id: str | None = None  # the technician offered, accepting, declining, leaving
    at: datetime = Field(default_factory=clock.utcnow)


class Repair(Document):
    id: str = Field(default_factory=lambda: new_id("rep"))
    customer_id: str
    device_brand: str
    device_model: str
    # AES-GCM sealed (app/repairs/imei.py), bound to the repair id; the last 4 digits are
    # kept apart for the masked form shown everywhere.
    imei_sealed: str | None = None
    imei_last4: str | None = None
    issue_type: IssueType
    issue_description: str
    mode: RepairMode
    location: LatLng | None = None
    address: Address | None = None
    scheduled_at: datetime | None = None
    status: RepairStatus
    status_history: list[StatusChange] = Field(default_factory=list)
    offer: Offer | None = None
    # Every technician offered this job (or who gave it up): never offered it again.
    offered_technician_ids: list[str] = Field(default_factory=list)
    technician_id: str | None = None  # tch_… once accepted
    technician_user_id: str | None = None  # that technician's account, for pushes and reads
    accepted_at: datetime | None = None
    # An accepted offline job is due to start by then (scheduledAt, else acceptance): the
    # timer alerts REPAIR_START_GRACE_MINUTES after it and re-matches later still.
    start_due_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    resolution_notes: str | None = None
    # When the overdue-start alert was raised for the current acceptance (cleared on a new one).
    start_overdue_alerted_at: datetime | None = None
    quote: Quote | None = None
    payment_id: str | None = None  # the captured payment of the accepted quote
    order_ids: list[str] = Field(default_factory=list)  # parts orders bought for this job
    cancellation_fee: int = 0
    version: int = 1
    created_at: datetime = Field(default_factory=clock.utcnow)
    updated_at: datetime = Field(default_factory=clock.utcnow)

    class Settings:
        name = "repairs"
        indexes = [
            IndexModel([("customer_id", ASCENDING), ("created_at", DESCENDING),
                        ("_id", DESCENDING)], name="by_customer"),
            IndexModel([("technician_id", ASCENDING), ("status", ASCENDING),
                        ("created_at", DESCENDING), ("_id", DESCENDING)], name="by_technician"),
            IndexModel([("status", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                       name="by_status"),
            IndexModel([("offer.technician_id", ASCENDING)], name="by_offered_technician"),
            IndexModel([("offer.expires_at", ASCENDING)], name="by_offer_expiry"),
            IndexModel([("created_at", DESCENDING), ("_id", DESCENDING)], name="newest"),
            IndexModel([("status", ASCENDING), ("start_due_at", ASCENDING)], name="by_start_due"),
        ]


class OfferOutcome(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"  # the job was reassigned or cancelled while offered


class RepairOffer(Document):
    """One offer of a job to a technician, kept: a technician's acceptance rate is read from
    its last 20, and the unique (repair, technician) key means a job is offered to a
    technician at most once."""

    id: str = Field(default_factory=lambda: new_id("ofr"))
    repair_id: str
    technician_id: str
    offered_at: datetime
    expires_at: datetime
    outcome: OfferOutcome = OfferOutcome.PENDING
    decided_at: datetime | None = None

    class Settings:
        name = "repair_offers"
        indexes = [
            IndexModel([("repair_id", ASCENDING), ("technician_id", ASCENDING)], unique=True,
                       name="once_per_technician"),
            IndexModel([("technician_id", ASCENDING), ("offered_at", DESCENDING)],
                       name="by_technician"),
            # A technician holds at most one live (pending) offer: a second insert fails.
            IndexModel([("technician_id", ASCENDING)], unique=True, name="one_live_offer",
                       partialFilterExpression={"outcome": "pending"}),
        ]


class OfferTally(Document):
    """A technician's offers counted by outcome (`_id` is its `tch_…`): `$inc`ed in the
    transaction that offers a job or decides an offer, so its acceptance rate is one read."""

    id: str
    received: int = 0
    accepted: int = 0
    declined: int = 0
    expired: int = 0
    withdrawn: int = 0

    class Settings:
        name = "repair_offer_tallies"


DOCUMENTS: list[type] = [Repair, RepairOffer, OfferTally]
