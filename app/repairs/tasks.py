"""Background jobs of the repairs domain (one instance at a time, under a lease, every
REPAIR_JOB_INTERVAL_SECONDS): offers that expired go to the next candidate, and accepted
offline jobs not started in time raise an alert and, later still, go back to matching.

"Not started" means still `accepted` (the technician has not even set off); the time is
`scheduledAt`, else the acceptance (`start_due_at`). Each step is a conditional update, so
a job accepted, started or cancelled meanwhile is left alone, and a rerun changes nothing.
"""

import logging
from datetime import timedelta

from app.alerts import service as alerts
from app.alerts.models import AlertKind
from app.core import clock
from app.core.config import Settings, settings
from app.core.jobs import PeriodicJob
from app.repairs import repository as repo
from app.repairs.assignment import expire_offer
from app.repairs.lifecycle import rematch_unstarted

log = logging.getLogger(__name__)
BATCH = 50


async def expire_offers(limit: int = BATCH) -> bool:
    """Expired offers → the next candidate; True when more may be waiting."""
    due = await repo.offers_expired(clock.utcnow(), limit)
    expired = 0
    for repair in due:
        try:
            expired += await expire_offer(repair) is not None
        except Exception:
            log.exception("could not expire a repair offer", extra={"repairId": repair.id})
    return len(due) == limit and expired > 0


async def enforce_start_times(limit: int = BATCH * 4) -> bool:
    """Alert on accepted offline jobs not started REPAIR_START_GRACE_MINUTES after their
    time; re-match those still not started REPAIR_REMATCH_AFTER_MINUTES after the alert."""
    config = settings().repairs
    now = clock.utcnow()
    grace = timedelta(minutes=config.start_grace_minutes)
    due = await repo.starts_due(now - grace, limit)
    for repair in due:
        try:
            alerted = repair.start_overdue_alerted_at
            if alerted is None:
                if await repo.mark_start_overdue(repair, now):
                    await alerts.raise_alert(
                        AlertKind.REPAIR_START_OVERDUE, "repair", repair.id,
                        f"Repair {repair.id} was accepted but not started "
                        f"{config.start_grace_minutes} minutes after its time",
                        {"technicianId": repair.technician_id,
                         "startDueAt": repair.start_due_at},
                    )
            elif alerted <= now - timedelta(minutes=config.rematch_after_minutes):
                await rematch_unstarted(repair)
        except Exception:
            log.exception("could not enforce a repair's start time", extra={"repairId": repair.id})
    # Jobs alerted and waiting for their re-match stay in this scan: never "more at once".
    return False


async def run_timers() -> bool:
    """One round of every repair timer; True when one of them has more waiting."""
    more_offers = await expire_offers()
    more_starts = await enforce_start_times()
    return more_offers or more_starts


def jobs(config: Settings) -> list[PeriodicJob]:
    return [PeriodicJob("repair-timers", run_timers,
                        interval=config.repairs.job_interval_seconds)]
