"""A closed-loop load: N clients, each sending its next request as soon as the last one is
answered, over keep-alive HTTP (one aiohttp connection per client), for D seconds."""

import asyncio
import json
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.procs import CLOCK_TICKS, Server

REQUEST_TIMEOUT = 300.0  # one request; a slow one still running at the deadline is awaited
MAX_DRAIN = 180.0  # past the window, units still unanswered after this are abandoned


@dataclass
class Outcome:
    """One unit of work: a request, or several (a whole purchase)."""

    ok: bool
    label: str  # what happened: "200", "422", "429", "timeout", ...
    body: str = ""
    data: Any = None


# One unit of work of worker `worker` (0..clients-1), its `n`-th.
Call = Callable[[aiohttp.ClientSession, int, int], Awaitable[Outcome]]


@dataclass
class Measured:
    name: str
    clients: int
    seconds: float  # the window in which units are started
    elapsed: float = 0.0  # from the first start to the last answer (the window + draining)
    latencies: list[float] = field(default_factory=list)  # every unit started in the window
    outcomes: Counter[str] = field(default_factory=Counter)
    errors: int = 0
    first_error: str = ""
    api_cpu: float = 0.0
    db_cpu: float = 0.0
    client_cpu: float = 0.0  # this load generator's own CPU
    other_cpu: float = 0.0  # every other process on the machine (noisy neighbours)
    wall: float = 0.0  # what the meter saw, for the cores columns
    api_rss_peak: int = 0
    db_rss_peak: int = 0
    drain_seconds: float = 0.0
    http_per_unit: int = 1
    reference_rate: float = 0.0  # GET /health req/s measured just before (0: none)
    notes: list[str] = field(default_factory=list)

    @property
    def units(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.units / self.elapsed if self.elapsed else 0.0

    def percentile(self, share: float) -> float:
        """Nearest-rank percentile, in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(1, min(len(ordered), int(share * len(ordered) + 0.999999)))
        return ordered[rank - 1] * 1000

    def cpu_ms_per_unit(self, which: str) -> float:
        cpu = {"api": self.api_cpu, "db": self.db_cpu, "client": self.client_cpu}[which]
        return cpu * 1000 / self.units if self.units else float("nan")

    @property
    def other_cores(self) -> float:
        return self.other_cpu / self.wall if self.wall else float("nan")


def session(clients: int) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=clients + 8, force_close=False)
    return aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    )


async def send(http: aiohttp.ClientSession, method: str, url: str, ok: tuple[int, ...] = (200,),
               **kwargs: Any) -> Outcome:
    """One request; the body is always read (keep-alive) and parsed as JSON when it is."""
    try:
        async with http.request(method, url, **kwargs) as response:
            text = await response.text()
            status = response.status
    except TimeoutError:
        return Outcome(False, "timeout")
    except aiohttp.ClientError as exc:
        return Outcome(False, type(exc).__name__, str(exc))
    try:
        data = json.loads(text) if text else None
    except ValueError:
        data = None
    good = status in ok
    return Outcome(good, str(status), "" if good else text[:500], data)


def _machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores, /proc/stat)."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:9]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields) - idle) / CLOCK_TICKS


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


class Meter:
    """CPU and peak RSS of the server's two processes between `start()` and `stop()`, and
    what the load generator and everything else on the machine used meanwhile."""

    def __init__(self, server: Server) -> None:
        self.server = server

    def start(self) -> None:
        self.server.peak.reset()
        self.server.sample()
        self.cpu0 = self.server.cpu()
        self.client0, self.busy0, self.wall0 = _own_cpu(), _machine_busy(), time.perf_counter()

    def stop(self, measured: Measured) -> None:
        api, db = self.server.cpu()
        measured.api_cpu, measured.db_cpu = api - self.cpu0[0], db - self.cpu0[1]
        measured.client_cpu = _own_cpu() - self.client0
        busy = _machine_busy() - self.busy0
        measured.other_cpu = max(0.0, busy - measured.api_cpu - measured.db_cpu
                                 - measured.client_cpu)
        measured.wall = time.perf_counter() - self.wall0
        self.server.sample()
        measured.api_rss_peak = self.server.peak.api_window
        measured.db_rss_peak = self.server.peak.db_window


def record(measured: Measured, outcome: Outcome) -> None:
    measured.outcomes[outcome.label] += 1
    if not outcome.ok:
        measured.errors += 1
        if not measured.first_error:
            measured.first_error = f"{outcome.label}: {outcome.body}"


async def closed_loop(server: Server, http: aiohttp.ClientSession, name: str, clients: int,
                      seconds: float, call: Call, http_per_unit: int = 1) -> Measured:
    measured = Measured(name, clients, seconds, http_per_unit=http_per_unit)
    meter = Meter(server)
    meter.start()
    started = time.perf_counter()
    deadline = started + seconds
    in_flight: dict[int, float] = {}

    async def worker(index: int) -> None:
        n = 0
        while time.perf_counter() < deadline:
            sent = in_flight[index] = time.perf_counter()
            outcome = await call(http, index, n)
            done = time.perf_counter()
            del in_flight[index]
            measured.latencies.append(done - sent)
            record(measured, outcome)
            n += 1

    tasks = [asyncio.create_task(worker(index)) for index in range(clients)]
    _, pending = await asyncio.wait(tasks, timeout=seconds + MAX_DRAIN)
    for task in pending:
        task.cancel()
    finished = time.perf_counter()
    for sent in in_flight.values():  # abandoned: counted as errors, latency at least this
        measured.latencies.append(finished - sent)
        record(measured, Outcome(False, "unfinished", f"no answer after {finished - sent:.0f} s"))
    measured.elapsed = finished - started
    measured.drain_seconds = max(0.0, finished - deadline)
    meter.stop(measured)
    return measured
