from datetime import datetime
from enum import StrEnum
from typing import Any

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.core import clock
from app.core.ids import new_id
from app.core.indexes import string_keyed


class AlertKind(StrEnum):
    PAYMENT_STUCK = "payment_stuck"
    ESCROW_OVERDUE = "escrow_overdue"
    REFUND_FAILED = "refund_failed"
    CAPTURE_AMOUNT_MISMATCH = "capture_amount_mismatch"
    # Escrow due for auto-release whose dealer is suspended or blocked: an admin decides.
    ESCROW_DEALER_STOPPED = "escrow_dealer_stopped"
    # Escrow due for auto-release above the two-approver threshold: finance admins release it.
    RELEASE_AWAITS_APPROVAL = "release_awaits_approval"
    # Webhooks whose signature did not verify, counted per window (details.count).
    WEBHOOK_BAD_SIGNATURES = "webhook_bad_signatures"
    # A failed payment that a later attempt on the same gateway order captured, found by the
    # SLA job (its webhook was lost): applied to the order, or refunded if the order was gone.
    PAYMENT_CAPTURED_AFTER_FAILURE = "payment_captured_after_failure"
    # The embedded database died repeatedly and was restarted by `make run`'s supervisor.
    DATABASE_RESTARTED = "database_restarted"
    # Every third spoofing flag of a technician's location within 24 hours: made unavailable.
    LOCATION_SPOOFING = "location_spoofing"
    # A hardware repair no eligible technician took (all declined, expired or none near).
    REPAIR_UNASSIGNED = "repair_unassigned"
    # An accepted offline repair not started within REPAIR_START_GRACE_MINUTES of its time.
    REPAIR_START_OVERDUE = "repair_start_overdue"
    # For review, never an automatic block: a technician accepting under half of its last
    # 20 offers, or averaging under 3.5 over at least 10 ratings.
    TECHNICIAN_LOW_ACCEPTANCE = "technician_low_acceptance"
    TECHNICIAN_LOW_RATING = "technician_low_rating"
    # Fraud checks that fired on what cannot be held for review (a capture, a refund).
    RISK_FLAGGED = "risk_flagged"


class Alert(Document):
    id: str = Field(default_factory=lambda: new_id("alr"))
    kind: AlertKind
    subject_type: str
    subject_id: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)
    # Set while unacknowledged, so there is at most one open alert per kind and subject
    # (unique among strings: acknowledged alerts, key unset or null, never collide).
    open_key: str | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    note: str | None = None
    created_at: datetime = Field(default_factory=clock.utcnow)

    class Settings:
        name = "alerts"
        indexes = [
            IndexModel([("open_key", ASCENDING)], unique=True, **string_keyed("open_key"),
                       name="one_open_per_subject"),
            IndexModel([("acknowledged_at", ASCENDING), ("created_at", DESCENDING),
                        ("_id", DESCENDING)], name="by_state"),
            IndexModel([("created_at", DESCENDING), ("_id", DESCENDING)], name="newest"),
        ]


DOCUMENTS: list[type] = [Alert]
# Replaced indexes, dropped at start-up where they remain (the sparse one indexed nulls).
RETIRED_INDEXES: dict[str, tuple[str, ...]] = {"alerts": ("one_open",)}
