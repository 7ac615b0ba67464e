"""Availability: an approved technician goes on or off duty; going on needs a usable fix."""

from app.audit import service as audit
from app.core.database import Session, transaction
from app.core.permissions import Actor
from app.technicians import repository
from app.technicians.exceptions import (
    FixConflict,
    LocationRequired,
    NotYourTechnicianProfile,
    TechnicianNotApproved,
)
from app.technicians.models import Technician, TechnicianStatus
from app.technicians.service import fresh_since, get_private, search_entry

SAVE_ATTEMPTS = 3


def _check_fix_for_duty(technician: Technician) -> None:
    """Going available needs the latest accepted fix to be accurate, younger than
    LOCATION_FRESH_SECONDS and, after a spoofing lockout, taken after it."""
    fix = technician.last_fix
    if fix is None:
        raise LocationRequired("Send a location fix before going available")
    if not fix.accurate:
        raise LocationRequired("The latest fix is not accurate (worse than 100 m); send an "
                               "accurate one before going available")
    if fix.recorded_at < fresh_since():
        raise LocationRequired("The latest fix is too old; send a fresh one before going available")
    lockout = technician.spoofing_lockout_at
    if lockout is not None and fix.received_at <= lockout:
        raise LocationRequired("Made unavailable for spoofed locations: send a fresh accurate "
                               "fix before going available again")


async def _save(actor: Actor, technician: Technician, available: bool) -> bool:
    """Set availability if the technician is still at the version read (audited)."""
    cell, entry = search_entry(technician, available=available)
    changes = {"available": available, "search_cell": cell}

    async def work(session: Session) -> bool:
        if not await repository.update_if_version(session, technician, changes):
            return False
        await repository.move_search_entry(session, technician.id, technician.search_cell,
                                           cell, entry)
        await audit.record(
            session, actor=actor, action="technician.availability_changed",
            subject_type="technician", subject_id=technician.id,
            changes={"available": {"from": technician.available, "to": available}},
        )
        return True

    return await transaction(work)


async def set_availability(actor: Actor, technician_id: str, available: bool) -> Technician:
    if actor.technician_id != technician_id:
        raise NotYourTechnicianProfile
    for _ in range(SAVE_ATTEMPTS):
        technician = await get_private(actor, technician_id)
        if technician.status is not TechnicianStatus.APPROVED:
            raise TechnicianNotApproved(
                f"Only an approved technician goes available (this one is "
                f"{technician.status.value})")
        if technician.available is available:
            return technician
        if available:
            _check_fix_for_duty(technician)
        if await _save(actor, technician, available):
            return await get_private(actor, technician_id)
    raise FixConflict("The technician changed meanwhile; send again")
