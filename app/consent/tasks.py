"""Background jobs of consents: consents whose time ran out expire (ending their sessions),
and sessions silent past the heartbeat timeout or past their own expiry end. One lease-guarded
job, every few seconds; each move is conditional, so a rerun changes nothing."""

from app.consent import repository as repo
from app.consent import service
from app.core import clock
from app.core.config import Settings
from app.core.jobs import PeriodicJob

INTERVAL_SECONDS = 2.0
BATCH = 100


async def run_timers() -> bool:
    """True when a full batch was done (run again at once)."""
    now = clock.utcnow()
    consent_ids = await repo.consents_due(now, BATCH)
    for consent_id in consent_ids:
        consent = await repo.consent_of(consent_id)
        if consent is not None:
            await service.expire_if_due(consent)
    session_ids = await repo.sessions_due(now, BATCH)
    for session_id in session_ids:
        remote = await repo.session_of(session_id)
        if remote is not None:
            await service.settle_session(remote)
    return len(consent_ids) == BATCH or len(session_ids) == BATCH


def jobs(config: Settings) -> list[PeriodicJob]:
    return [PeriodicJob("consent-timers", run_timers, interval=INTERVAL_SECONDS)]
