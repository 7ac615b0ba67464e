"""`parts-platform serve` in embedded mode as a child process, and the ways to kill its parts."""

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from app.core.embedded import PID_FILE, free_port
from tests.helpers import ADMIN_EMAIL, ADMIN_PASSWORD, POLL_INTERVAL, eventually

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (a dead child nobody has reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def exists(pid: int) -> bool:
    """True while `pid` has a process-table entry, zombies included."""
    return Path(f"/proc/{pid}").exists()


@dataclass
class Served:
    """`python -m app.cli serve` on a temp data directory and a free port."""

    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "db"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "serve.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def db_url(self) -> str:
        """The embedded database's URL, as `serve` records it for `create-admin`."""
        return json.loads((self.data_dir / "embedded-db.json").read_text())["url"]

    def db_pid(self) -> int | None:
        with contextlib.suppress(FileNotFoundError, ValueError):
            return int((self.db_path / PID_FILE).read_text())
        return None

    async def start(self) -> "Served":
        self.port = self.port or free_port()
        env = {
            key: value for key, value in os.environ.items()
            if key not in ("MONGODB_URL", "SECANTUS_TEST_FAST_STORAGE")
        }
        env.update({
            "HOST": "127.0.0.1", "PORT": str(self.port), "EMBEDDED_DB_PATH": str(self.db_path),
            # Its own checkpoints: another test's chain of the same database name must not
            # be held against this one.
            "AUDIT_CHECKPOINT_FILE": str(self.data_dir / "audit" / "checkpoints.jsonl"),
            "BOOTSTRAP_ADMIN_EMAIL": ADMIN_EMAIL, "BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "RATE_LIMITS_ENABLED": "false", "LOG_LEVEL": "WARNING", **self.env,
        })
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve"], cwd=REPO_ROOT, env=env,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        await self.until_ready(START_TIMEOUT)
        return self

    async def ready_status(self) -> int:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"serve exited with {self.process.returncode}:\n{self.log()}")
        async with httpx.AsyncClient(base_url=self.base_url, timeout=5) as http:
            try:
                return (await http.get("/ready")).status_code
            except httpx.TransportError:
                return 0

    async def until_ready(self, timeout: float = 30.0) -> None:
        await eventually(self.ready_status, lambda status: status == 200, timeout)

    def kill_database(self) -> int:
        pid = self.db_pid()
        assert pid is not None and alive(pid), self.log()
        os.kill(pid, signal.SIGKILL)
        return pid

    async def wait_exit(self, timeout: float) -> int:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"serve still running after {timeout}s:\n{self.log()}")
            await asyncio.sleep(POLL_INTERVAL)
        return self.process.returncode

    def force_stop(self) -> None:
        """Clean-up of a test that failed half-way: nothing of it may outlive the test."""
        pid = self.db_pid()
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if pid is not None and alive(pid):
            os.kill(pid, signal.SIGKILL)


@contextlib.asynccontextmanager
async def served(data_dir: Path, **env: str) -> AsyncIterator[Served]:
    server = Served(data_dir, env)
    try:
        yield await server.start()
    finally:
        server.force_stop()
