"""Periodic background jobs, each guarded by a lease so one instance runs it at a time."""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from app.core import clock, leases
from app.core.metrics import JOB_LAST_SUCCESS

log = logging.getLogger(__name__)

# PyMongo's async API (4.x) can swallow a task cancellation that lands inside an operation
# (measured: ~2% of cancels during `find().to_list()`), so a job is stopped by a flag it
# checks each round, and cancelled again until it has ended.
CANCEL_RETRY_SECONDS = 0.1
LEASE_RELEASE_TIMEOUT = 2.0
STOP_TIMEOUT = 10.0


@dataclass
class PeriodicJob:
    """Runs `work` every `interval` seconds (sooner when woken) while holding its lease.

    `work` returns True when it stopped early with more to do, so it runs again at once.
    With `journal`, each run (failed ones too, not one cut short by stop) is recorded.
    """

    name: str
    work: Callable[[], Awaitable[bool]]
    interval: float
    lease_ttl: float = 30.0
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    _held_until: float = 0.0
    stopping: bool = False
    journal: bool = False

    async def _hold_lease(self) -> bool:
        """Renew the lease at half its life rather than on every tick."""
        now = time.monotonic()
        if now < self._held_until - self.lease_ttl / 2:
            return True
        if await leases.acquire(self.name, self.lease_ttl):
            self._held_until = now + self.lease_ttl
            return True
        self._held_until = 0.0
        return False

    async def _run(self) -> bool:
        if not self.journal:
            return await self.work()
        started_at = clock.utcnow()
        try:
            return await self.work()
        finally:
            if not self.stopping:
                await leases.record_run(self.name, started_at, clock.utcnow())

    async def run_forever(self) -> None:
        while not self.stopping:
            more = False
            try:
                if await self._hold_lease():
                    more = await self._run()
                    JOB_LAST_SUCCESS.labels(self.name).set(time.time())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background job failed", extra={"job": self.name})
            if more:
                continue
            self.wake.clear()
            # asyncio.timeout, not wait_for: on 3.11 wait_for can lose a cancellation that
            # arrives as the wake event fires (bpo-42130).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self.wake.wait()


class JobRunner:
    def __init__(self, journal: bool = False) -> None:
        self.journal = journal
        self.jobs: list[PeriodicJob] = []
        self._tasks: list[asyncio.Task[None]] = []

    def add(self, job: PeriodicJob) -> PeriodicJob:
        job.journal = job.journal or self.journal
        self.jobs.append(job)
        return job

    def start(self) -> None:
        self._tasks = [asyncio.create_task(job.run_forever(), name=job.name) for job in self.jobs]

    async def stop(self) -> None:
        for job in self.jobs:
            job.stopping = True
        for task in self._tasks:
            await _cancel_until_done(task)
        if self._tasks:
            # Together, each bounded: a database that is gone must not stall shutdown
            # (one after another, that was LEASE_RELEASE_TIMEOUT per job).
            await asyncio.gather(*(_release(job.name) for job in self.jobs))
        self._tasks = []


async def _release(name: str) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(leases.release(name), LEASE_RELEASE_TIMEOUT)


async def _cancel_until_done(task: asyncio.Task[None]) -> None:
    deadline = time.monotonic() + STOP_TIMEOUT
    while not task.done():
        if time.monotonic() > deadline:
            log.error("background job did not stop; abandoning it", extra={"job": task.get_name()})
            return
        task.cancel()
        await asyncio.wait([task], timeout=CANCEL_RETRY_SECONDS)
    if not task.cancelled() and task.exception() is not None:
        log.error("background job ended with an error", exc_info=task.exception())
