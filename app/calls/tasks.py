"""Background jobs of calls: the ring timeout, lease-guarded by the job runner."""

from app.calls import repository, service
from app.core import clock
from app.core.config import Settings
from app.core.jobs import PeriodicJob

RING_EXPIRY_INTERVAL_SECONDS = 2.0
BATCH = 100


async def miss_unanswered_calls() -> bool:
    """Every call still ringing past CALL_RING_TIMEOUT_SECONDS becomes `missed`; True when a
    full batch was done (run again at once). Safe to run twice: each move is conditional."""
    call_ids = await repository.ringing_past(clock.utcnow(), BATCH)
    for call_id in call_ids:
        await service.miss_if_unanswered(call_id)
    return len(call_ids) == BATCH


def jobs(config: Settings) -> list[PeriodicJob]:
    return [PeriodicJob("call-ring-expiry", miss_unanswered_calls,
                        interval=RING_EXPIRY_INTERVAL_SECONDS)]
