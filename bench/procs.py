"""The server under test: the embedded database and the API as two separate OS processes,
and what they cost, read from /proc (CPU seconds and resident memory, Linux only)."""

import asyncio
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from app.core.embedded import EmbeddedMongo, free_port

ROOT = Path(__file__).resolve().parent.parent
ADMIN_EMAIL = "bench-admin@example.com"
ADMIN_PASSWORD = "Bench-Admin-Passw0rd!"
DB_NAME = "bench"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (a server that forks workers is measured whole)."""
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            children = []
        queue.extend(int(child) for child in children)
    return pids


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the process tree so far."""
    total = 0
    for one in _tree(pid):
        try:
            stat = Path(f"/proc/{one}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    """Resident memory of the process tree now."""
    total = 0
    for one in _tree(pid):
        try:
            total += int(Path(f"/proc/{one}/statm").read_text().split()[1]) * PAGE_SIZE
        except OSError:
            continue
    return total


def machine() -> dict[str, str]:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) // 1024} MB"
                break
    except OSError:
        pass
    return {"cores": str(os.cpu_count()), "cpu": model, "memory": memory,
            "python": platform.python_version(), "kernel": platform.release()}


@dataclass
class Peak:
    """The highest RSS of each process seen by the sampler, overall and since `reset()`."""

    api: int = 0
    db: int = 0
    api_window: int = 0
    db_window: int = 0

    def reset(self) -> None:
        self.api_window = self.db_window = 0


@dataclass
class Server:
    """The database and the API, started as `make run` would with MONGODB_URL set."""

    api_port: int = 0
    db: EmbeddedMongo | None = None
    api: subprocess.Popen[bytes] | None = None
    data_dir: tempfile.TemporaryDirectory[str] | None = None
    peak: Peak = field(default_factory=Peak)
    command: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def db_url(self) -> str:
        assert self.db is not None
        return self.db.url

    @property
    def db_pid(self) -> int:
        assert self.db is not None and self.db.process is not None
        return self.db.process.pid

    @property
    def api_pid(self) -> int:
        assert self.api is not None
        return self.api.pid

    def start(self) -> "Server":
        self.data_dir = tempfile.TemporaryDirectory(prefix="bench-db-")
        self.db = EmbeddedMongo(self.data_dir.name).start()
        self.api_port = free_port()
        env = {
            **os.environ,
            "MONGODB_URL": self.db.url,
            "MONGODB_DB": DB_NAME,
            "AUDIT_CHECKPOINT_FILE": str(Path(self.data_dir.name) / "checkpoints.jsonl"),
            "HOST": "127.0.0.1",
            "PORT": str(self.api_port),
            "APP_ENV": "development",
            "LOG_LEVEL": "WARNING",
            "RATE_LIMITS_ENABLED": "false",
            # 50 customers place thousands of orders that stay unpaid (order_create, race):
            # the default of 5 unpaid orders each would refuse all but the first 250.
            "MAX_UNPAID_ORDERS_PER_CUSTOMER": "1000",
            "BOOTSTRAP_ADMIN_EMAIL": ADMIN_EMAIL,
            "BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        }
        # What `make run` runs (`parts-platform serve` is this module's main()).
        self.command = [sys.executable, "-m", "app.cli", "serve"]
        self.api = subprocess.Popen(self.command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        return self

    async def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while True:
                if self.api is not None and self.api.poll() is not None:
                    raise RuntimeError(f"the API exited with {self.api.returncode}")
                try:
                    async with http.get(f"{self.base_url}/ready") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the API did not become ready")
                await asyncio.sleep(0.2)

    def sample(self) -> tuple[int, int]:
        api, db = rss_bytes(self.api_pid), rss_bytes(self.db_pid)
        peak = self.peak
        peak.api, peak.db = max(peak.api, api), max(peak.db, db)
        peak.api_window, peak.db_window = max(peak.api_window, api), max(peak.db_window, db)
        return api, db

    async def sample_forever(self, interval: float = 0.25) -> None:
        while True:
            self.sample()
            await asyncio.sleep(interval)

    def cpu(self) -> tuple[float, float]:
        return cpu_seconds(self.api_pid), cpu_seconds(self.db_pid)

    async def quiesce(self, idle_share: float = 0.1, cap: float = 120.0) -> float:
        """Wait until API and database use under `idle_share` of a core (background jobs, the
        audit sequencer catching up), at most `cap` seconds; returns the time waited."""
        started = time.monotonic()
        while time.monotonic() - started < cap:
            before = sum(self.cpu())
            await asyncio.sleep(0.5)
            if (sum(self.cpu()) - before) / 0.5 < idle_share:
                break
        return time.monotonic() - started

    def stop(self) -> None:
        if self.api is not None and self.api.poll() is None:
            self.api.terminate()
            try:
                self.api.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.api.kill()
                self.api.wait()
        if self.db is not None:
            self.db.stop()
        if self.data_dir is not None:
            self.data_dir.cleanup()
