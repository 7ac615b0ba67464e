"""Background jobs stop when the app stops, even when their work swallowed a cancellation."""

import asyncio
import contextlib

from app.core.jobs import JobRunner, PeriodicJob
from tests.helpers import eventually


async def test_stop_ends_a_job_whose_work_swallowed_the_cancellation(app, mongo_db):
    entered = asyncio.Event()

    async def stubborn() -> bool:
        entered.set()
        # Swallow the cancellation, as PyMongo's async API sometimes does inside an operation.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.Event().wait()
        return False

    runner = JobRunner()
    runner.add(PeriodicJob("stubborn", stubborn, interval=60))
    runner.start()
    await asyncio.wait_for(entered.wait(), timeout=10)

    stopping = asyncio.create_task(runner.stop())
    done, _ = await asyncio.wait([stopping], timeout=5)

    assert stopping in done, "stop() still waiting on a job that swallowed its cancellation"
    assert await mongo_db.leases.count_documents({"_id": "stubborn"}) == 0


async def test_job_is_woken_early_by_its_event(app):
    runs: list[int] = []
    wake = asyncio.Event()

    async def count() -> bool:
        runs.append(1)
        return False

    async def run_count() -> int:
        return len(runs)

    runner = JobRunner()
    runner.add(PeriodicJob("counter", count, interval=60, wake=wake))
    runner.start()
    try:
        await eventually(run_count, lambda n: n == 1)
        wake.set()
        await eventually(run_count, lambda n: n == 2)
    finally:
        await runner.stop()
