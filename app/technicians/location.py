"""Live location: checking each fix for time and plausibility, keeping accepted ones, and
flagging spoofing (every third flag in 24 hours makes the technician unavailable).

Accepted fixes are recorded in the location history (kept 7 days), which is their record;
they are not audited one by one (a technician on duty sends one every few seconds). Spoofing
flags and every availability change are audited.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.alerts import service as alerts_service
from app.alerts.models import AlertKind
from app.audit import service as audit
from app.core import clock
from app.core.config import settings
from app.core.database import Session, transaction
from app.core.pagination import PageRequest
from app.core.permissions import Actor
from app.technicians import repository
from app.technicians.exceptions import (
    FixConflict,
    LocationImplausible,
    NotYourTechnicianProfile,
    TechnicianNotApproved,
)
from app.technicians.geodesy import cell_of, geodesic_km
from app.technicians.models import (
    Fix,
    FrozenRun,
    LocationRecord,
    RefusedFix,
    SpoofingFlag,
    Technician,
    TechnicianStatus,
)
from app.technicians.schemas import FixIn
from app.technicians.service import ACCURATE_WITHIN_M, get_private, search_entry

FUTURE_FIX = "FUTURE_FIX"
STALE_FIX = "STALE_FIX"
OUT_OF_ORDER = "OUT_OF_ORDER"
MOCK_LOCATION = "MOCK_LOCATION"
IMPOSSIBLE_SPEED = "IMPOSSIBLE_SPEED"
FROZEN_COORDINATES = "FROZEN_COORDINATES"
# Refusals for the fix's time: not spoofing. The others are.
TIME_REASONS = (FUTURE_FIX, STALE_FIX, OUT_OF_ORDER)
SPOOFING_REASONS = (MOCK_LOCATION, IMPOSSIBLE_SPEED, FROZEN_COORDINATES)

MAX_AHEAD = timedelta(seconds=30)
MAX_AGE = timedelta(minutes=2)
# The n-th consecutive fix at exactly the same coordinates while claiming to move is refused.
FROZEN_AFTER = 30
MOVING_MPS = 1.0
FLAG_WINDOW = timedelta(hours=24)
FLAGS_PER_LOCKOUT = 3
SAVE_ATTEMPTS = 3


@dataclass(frozen=True)
class Verdict:
    reasons: list[str]
    frozen: FrozenRun | None  # the run of frozen coordinates after this fix

    @property
    def spoofing(self) -> bool:
        return any(reason in SPOOFING_REASONS for reason in self.reasons)


def _to_millis(moment: datetime) -> datetime:
    """UTC, truncated to what the database keeps (milliseconds), so comparisons with stored
    fixes mean the same before and after a save."""
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _next_run(run: FrozenRun | None, fix: FixIn) -> FrozenRun | None:
    if fix.speed_mps is None or fix.speed_mps <= MOVING_MPS:
        return None
    if run is not None and run.lat == fix.lat and run.lng == fix.lng:
        return FrozenRun(lat=fix.lat, lng=fix.lng, count=run.count + 1)
    return FrozenRun(lat=fix.lat, lng=fix.lng, count=1)


def judge(technician: Technician, fix: FixIn, recorded_at: datetime, now: datetime) -> Verdict:
    """Every reason to refuse `fix`, in a fixed order (empty: accept it)."""
    reasons: list[str] = []
    last = technician.last_fix
    if recorded_at > now + MAX_AHEAD:
        reasons.append(FUTURE_FIX)
    if recorded_at < now - MAX_AGE:
        reasons.append(STALE_FIX)
    if last is not None and recorded_at <= last.recorded_at:
        reasons.append(OUT_OF_ORDER)
    if fix.is_mock:
        reasons.append(MOCK_LOCATION)
    if last is not None and recorded_at > last.recorded_at:
        hours = (recorded_at - last.recorded_at).total_seconds() / 3600
        km = geodesic_km(last.lat, last.lng, fix.lat, fix.lng)
        if km / hours > settings().technicians.location_max_speed_kmh:
            reasons.append(IMPOSSIBLE_SPEED)
    # A fix refused for its time is not part of the device's sequence: it neither extends
    # nor breaks a run of frozen coordinates.
    timely = not any(reason in TIME_REASONS for reason in reasons)
    frozen = _next_run(technician.frozen, fix) if timely else technician.frozen
    if timely and frozen is not None and frozen.count >= FROZEN_AFTER:
        reasons.append(FROZEN_COORDINATES)
    return Verdict(reasons, frozen)


async def record_fix(actor: Actor, technician_id: str, fix: FixIn) -> Fix:
    """Accept the fix (201) or refuse it (422 LOCATION_IMPLAUSIBLE with every reason)."""
    if actor.technician_id != technician_id:
        raise NotYourTechnicianProfile
    recorded_at = _to_millis(fix.recorded_at)
    for _ in range(SAVE_ATTEMPTS):
        technician = await get_private(actor, technician_id)
        if technician.status is not TechnicianStatus.APPROVED:
            raise TechnicianNotApproved(
                f"Only an approved technician sends locations (this one is "
                f"{technician.status.value})")
        now = _to_millis(clock.utcnow())
        verdict = judge(technician, fix, recorded_at, now)
        if verdict.spoofing:
            await _flag_spoofing(actor, technician, fix, recorded_at, verdict, now)
            raise LocationImplausible(verdict.reasons)
        if verdict.reasons:
            raise LocationImplausible(verdict.reasons)
        accepted = await _accept(technician, fix, recorded_at, verdict.frozen, now)
        if accepted is not None:
            return accepted
    raise FixConflict


async def _accept(technician: Technician, fix: FixIn, recorded_at: datetime,
                  frozen: FrozenRun | None, now: datetime) -> Fix | None:
    """Save the fix as the current position and in the history; None if the technician
    changed since it was read (the caller judges the fix again)."""
    cell = cell_of(fix.lat, fix.lng)
    accepted = Fix(lat=fix.lat, lng=fix.lng, accuracy_m=fix.accuracy_m, recorded_at=recorded_at,
                   received_at=now, h3_cell=cell, accurate=fix.accuracy_m <= ACCURATE_WITHIN_M)
    search_cell, entry = search_entry(technician, fix=accepted)
    changes = {
        "last_fix": accepted.model_dump(),
        "location": {"type": "Point", "coordinates": [fix.lng, fix.lat]},
        "h3_cell": cell,
        "search_cell": search_cell,
        "frozen": frozen.model_dump() if frozen else None,
    }
    record = LocationRecord(technician_id=technician.id, lat=fix.lat, lng=fix.lng,
                            accuracy_m=fix.accuracy_m, recorded_at=recorded_at, received_at=now,
                            h3_cell=cell, accurate=accepted.accurate)

    async def work(session: Session) -> bool:
        if not await repository.update_if_version(session, technician, changes):
            return False
        await repository.move_search_entry(session, technician.id, technician.search_cell,
                                           search_cell, entry)
        await repository.add_location(session, record)
        return True

    return accepted if await transaction(work) else None


async def _flag_spoofing(actor: Actor, technician: Technician, fix: FixIn, recorded_at: datetime,
                         verdict: Verdict, now: datetime) -> None:
    """Keep the flag with all its reasons (audited); on every third flag within 24 hours make
    the technician unavailable and alert the admins (once while an alert is unacknowledged)."""
    refused = RefusedFix(lat=fix.lat, lng=fix.lng, accuracy_m=fix.accuracy_m,
                         recorded_at=recorded_at, is_mock=fix.is_mock, speed_mps=fix.speed_mps)

    async def work(session: Session) -> SpoofingFlag:
        rank = await repository.spoofing_flags_since(session, technician.id, now - FLAG_WINDOW) + 1
        lockout = rank % FLAGS_PER_LOCKOUT == 0
        flag = SpoofingFlag(technician_id=technician.id, reasons=verdict.reasons, fix=refused,
                            rank_in_day=rank, made_unavailable=lockout, at=now)
        await repository.add_spoofing_flag(session, flag)
        changes: dict[str, object] = {"frozen": verdict.frozen.model_dump() if verdict.frozen
                                      else None}
        if lockout:
            changes.update(available=False, search_cell=None, spoofing_lockout_at=now)
        # Always moves the version on, so two flags at once conflict and are counted in turn.
        was_in = await repository.force_update(session, technician.id, changes)
        if lockout:
            await repository.move_search_entry(session, technician.id, was_in, None, None)
        await audit.record(
            session, actor=actor, action="technician.location_spoofing_flagged",
            subject_type="technician", subject_id=technician.id,
            changes={"available": {"from": technician.available, "to": False}} if lockout
            else None,
            reason=", ".join(verdict.reasons),
            metadata={"flagId": flag.id, "reasons": verdict.reasons, "flagsInDay": rank,
                      "madeUnavailable": lockout, "fix": refused.model_dump(mode="json")},
        )
        return flag

    flag = await transaction(work)
    if flag.made_unavailable:
        await alerts_service.raise_alert(
            AlertKind.LOCATION_SPOOFING, "technician", technician.id,
            f"Technician {technician.id} sent {flag.rank_in_day} spoofed locations within 24 "
            "hours and was made unavailable",
            {"flagId": flag.id, "reasons": flag.reasons, "flagsInDay": flag.rank_in_day},
        )


async def history(actor: Actor, technician_id: str, since: datetime | None,
                  until: datetime | None, page: PageRequest) -> tuple[list[LocationRecord], str | None]:
    """Accepted fixes of the last 7 days, newest first (the owner and admins; others 404)."""
    await get_private(actor, technician_id)
    return await repository.location_page(technician_id, since, until, page)
