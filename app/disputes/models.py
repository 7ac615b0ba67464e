"""Disputes over paid orders and paid repair jobs: the buyer's (or the repair's customer's)
complaint, evidence notes and the admin's resolution."""

from datetime import datetime
from enum import StrEnum

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.core import clock
from app.core.ids import new_id
from app.core.indexes import string_keyed


class DisputeReason(StrEnum):
    NOT_DELIVERED = "not_delivered"
    DAMAGED = "damaged"
    WRONG_ITEM = "wrong_item"
    NOT_AS_DESCRIBED = "not_as_described"
    OTHER = "other"


class DisputeStatus(StrEnum):
    OPEN = "open"
    RESOLVING = "resolving"  # the decision is taken; its money is being moved
    RESOLVED = "resolved"


class DisputeAction(StrEnum):
    OPEN = "open"
    RESOLVE = "resolve"
    COMPLETE = "complete"
    ADD_NOTE = "add_note"


class Resolution(StrEnum):
    REFUND_BUYER = "refund_buyer"
    RELEASE_TO_DEALER = "release_to_dealer"
    SPLIT = "split"


class NoteAuthor(StrEnum):
    BUYER = "buyer"
    DEALER = "dealer"
    TECHNICIAN = "technician"  # the technician of a disputed repair job
    ADMIN = "admin"


class DisputeNote(BaseModel):
    id: str = Field(default_factory=lambda: new_id("dnt"))
    author_id: str
    role: NoteAuthor
    text: str
    at: datetime = Field(default_factory=clock.utcnow)


class DisputeStatusChange(BaseModel):
    from_status: DisputeStatus | None
    to_status: DisputeStatus
    action: DisputeAction
    by: str
    at: datetime = Field(default_factory=clock.utcnow)


class ResolutionRecord(BaseModel):
    """The admin's decision, fixed when the dispute moves to `resolving`, and what it moved."""

    resolution: Resolution
    note: str
    decided_by: str
    decided_at: datetime
    requested_buyer_amount: int | None = None
    held_at_decision: int
    refund_amount: int  # what the buyer gets back
    release_amount: int  # what goes to the dealer (before commission)
    # Decided before delivery: an ops_lead override (the release is early, the order is closed).
    override: bool = False
    # The escrow was released before the dispute: settled by a refund after release only.
    after_release: bool = False
    refund_attempt: int = 1
    refund_id: str | None = None
    refunded_amount: int = 0
    released_amount: int = 0
    dealer_share: int | None = None
    commission: int | None = None
    platform_share: int | None = None
    resolved_at: datetime | None = None


class Dispute(Document):
    id: str = Field(default_factory=lambda: new_id("dsp"))
    # Exactly one: the disputed order (paid to its dealer) or repair job (to its technician).
    order_id: str | None = None
    repair_id: str | None = None
    payment_id: str
    buyer_id: str  # the order's buyer, or the repair's customer
    dealer_id: str | None = None
    technician_id: str | None = None  # tch_…
    reason: DisputeReason
    details: str
    status: DisputeStatus = DisputeStatus.OPEN
    # The order (or repair) id while the dispute is unresolved: one open dispute per order or
    # repair (ord_…/rep_…, never colliding; unique among
    # strings, so resolved disputes, with the key unset or null, never collide).
    open_key: str | None = None
    amount_in_dispute: int
    escrow_status_before: str
    notes: list[DisputeNote] = Field(default_factory=list)
    resolution: ResolutionRecord | None = None
    status_history: list[DisputeStatusChange] = Field(default_factory=list)
    version: int = 1
    created_at: datetime = Field(default_factory=clock.utcnow)
    updated_at: datetime = Field(default_factory=clock.utcnow)

    class Settings:
        name = "disputes"
        indexes = [
            IndexModel([("open_key", ASCENDING)], unique=True, **string_keyed("open_key"),
                       name="one_unresolved_per_order"),
            IndexModel([("order_id", ASCENDING), ("created_at", DESCENDING),
                        ("_id", DESCENDING)], name="by_order"),
            IndexModel([("buyer_id", ASCENDING), ("created_at", DESCENDING),
                        ("_id", DESCENDING)], name="by_buyer"),
            IndexModel([("dealer_id", ASCENDING), ("created_at", DESCENDING),
                        ("_id", DESCENDING)], name="by_dealer"),
            IndexModel([("repair_id", ASCENDING), ("created_at", DESCENDING),
                        ("_id", DESCENDING)], name="by_repair"),
            IndexModel([("technician_id", ASCENDING), ("created_at", DESCENDING),
                        ("_id", DESCENDING)], name="by_technician"),
            IndexModel([("status", ASCENDING), ("created_at", DESCENDING),
                        ("_id", DESCENDING)], name="by_status"),
            IndexModel([("created_at", DESCENDING), ("_id", DESCENDING)], name="newest"),
        ]


DOCUMENTS: list[type] = [Dispute]
# Replaced indexes, dropped at start-up where they remain (the sparse one indexed nulls).
RETIRED_INDEXES: dict[str, tuple[str, ...]] = {"disputes": ("one_open_per_order",)}
