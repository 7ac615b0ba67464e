"""Periodic background jobs, each guarded by a lease so one instance runs it at a time."""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from app.core import leases

log = logging.getLogger(__name__)


@dataclass
class PeriodicJob:
    """Runs `work` every `interval` seconds (sooner when woken) while holding its lease.

    `work` returns True when it stopped early with more to do, so it runs again at once.
    """

    name: str
    work: Callable[[], Awaitable[bool]]
    interval: float
    lease_ttl: float = 30.0
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    _held_until: float = 0.0

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

    async def run_forever(self) -> None:
        while True:
            more = False
            try:
                if await self._hold_lease():
                    more = await self.work()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background job failed", extra={"job": self.name})
            if more:
                continue
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=self.interval)


class JobRunner:
    def __init__(self) -> None:
        self.jobs: list[PeriodicJob] = []
        self._tasks: list[asyncio.Task[None]] = []

    def add(self, job: PeriodicJob) -> PeriodicJob:
        self.jobs.append(job)
        return job

    def start(self) -> None:
        self._tasks = [asyncio.create_task(job.run_forever(), name=job.name) for job in self.jobs]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for job in self.jobs:
            with contextlib.suppress(Exception):
                await leases.release(job.name)
        self._tasks = []
