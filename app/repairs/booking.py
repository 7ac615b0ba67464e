"""Booking: a customer books a repair; hardware jobs are matched inside the request, software
jobs wait for an admin's assignment."""

from datetime import datetime, timedelta

from app.core import clock
from app.core.database import Session
from app.core.ids import new_id
from app.core.permissions import Actor
from app.repairs import matching
from app.repairs.exceptions import (
    INVALID_IMEI,
    MODE_NOT_ALLOWED,
    RepairRuleViolation,
)
from app.repairs.imei import is_valid_imei, seal_imei
from app.repairs.models import (
    Address,
    IssueType,
    LatLng,
    Repair,
    RepairMode,
    StatusChange,
)
from app.repairs.moves import record_booking
from app.repairs.schemas import RepairCreate
from app.repairs.transitions import pool_of

EARLIEST_AHEAD = timedelta(minutes=30)
LATEST_AHEAD = timedelta(days=14)


def check_booking(data: RepairCreate, now: datetime) -> None:
    """The booking rules beyond the schema's (422 each, with the field and rule flag)."""
    if data.issue_type is IssueType.HARDWARE and data.mode is not RepairMode.OFFLINE:
        raise RepairRuleViolation(MODE_NOT_ALLOWED, "body.mode",
                                  "hardware repairs are offline only (mode: offline)")
    if data.mode is RepairMode.OFFLINE and data.location is None:
        raise RepairRuleViolation(None, "body.location", "an offline repair needs a location")
    if data.scheduled_at is not None and not (
            now + EARLIEST_AHEAD <= data.scheduled_at <= now + LATEST_AHEAD):
        raise RepairRuleViolation(None, "body.scheduledAt",
                                  "must be between 30 minutes and 14 days ahead")
    if data.imei is not None and not is_valid_imei(data.imei):
        raise RepairRuleViolation(INVALID_IMEI, "body.imei",
                                  "an IMEI is 15 digits with a valid Luhn check digit")


async def book(actor: Actor, data: RepairCreate) -> Repair:
    """Save the job (its IMEI sealed to its id) and, for hardware, offer it at once."""
    now = clock.utcnow()
    check_booking(data, now)
    repair_id = new_id("rep")
    status = pool_of(data.issue_type)
    repair = Repair(
        id=repair_id, customer_id=actor.id, device_brand=data.device_brand,
        device_model=data.device_model,
        imei_sealed=seal_imei(data.imei, repair_id) if data.imei else None,
        imei_last4=data.imei[-4:] if data.imei else None,
        issue_type=data.issue_type, issue_description=data.issue_description, mode=data.mode,
        location=LatLng(**data.location.model_dump()) if data.location else None,
        address=Address(**data.address.model_dump()) if data.address else None,
        scheduled_at=data.scheduled_at, status=status,
        status_history=[StatusChange(from_status=None, to_status=status, action="book",
                                     by=actor.id, role="customer", at=now)],
        created_at=now, updated_at=now,
    )

    async def insert(session: Session) -> Repair:
        await record_booking(session, actor, repair)
        return repair

    booked = await matching.commit_and_match(actor, repair, insert)
    assert booked is not None  # a new job cannot have moved on
    return booked
