"""The outbox job: pushes the notifications whose writer did not (it died between its commit
and its push, or the push failed). Lease-guarded; each push is claimed, so a rerun or a
second instance sends none twice."""

from app.core.jobs import PeriodicJob
from app.notifications import service

INTERVAL_SECONDS = 5.0
BATCH = 100


async def push_unpushed() -> bool:
    """True when a full batch was read (run again at once)."""
    return await service.push_due(BATCH) == BATCH


def jobs() -> list[PeriodicJob]:
    return [PeriodicJob("notification-outbox", push_unpushed, interval=INTERVAL_SECONDS)]
