"""Separate OS processes for tests of what several instances share: a real `redis-server`,
and the API itself started as `python -m app.cli serve` (as a deployment runs it)."""

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis

from app.core.embedded import free_port
from tests.helpers import POLL_INTERVAL

REPO_ROOT = Path(__file__).resolve().parent.parent
# Where .ci/run puts PyPI's redis-server package when the machine has no redis-server.
PYPI_REDIS_SERVER = REPO_ROOT / "var" / "redis-server" / "redis_server" / "bin" / "redis-server"
REDIS_READY_TIMEOUT = 10.0
API_READY_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def find_redis_server() -> str | None:
    """$REDIS_SERVER, else `redis-server` on PATH, else the binary of PyPI's redis-server."""
    for candidate in (os.environ.get("REDIS_SERVER"), shutil.which("redis-server"),
                      str(PYPI_REDIS_SERVER)):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _stop(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT) -> int:
    """SIGTERM, then wait for the exit (SIGKILL only if it will not end)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
    return process.returncode


class RedisServer:
    """A `redis-server` child on a free loopback port, without persistence."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def start(self) -> "RedisServer":
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + REDIS_READY_TIMEOUT
        with self.client() as client:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"redis-server exited with {self.process.returncode}")
                try:
                    if client.ping():
                        return self
                except redis.ConnectionError:
                    pass
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"redis-server did not answer PING in {REDIS_READY_TIMEOUT}s")
                time.sleep(POLL_INTERVAL)

    def flush(self) -> None:
        with self.client() as client:
            client.flushall()

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)


@dataclass
class ApiProcess:
    """One API instance: `python -m app.cli serve` with its own PORT, in its own OS process."""

    name: str
    env: dict[str, str]
    log_path: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def start(self) -> "ApiProcess":
        self.port = free_port()
        env = {
            **os.environ, "AUDIT_CHECKPOINT_FILE": str(self.log_path.parent / "checkpoints.jsonl"),
            **self.env, "HOST": "127.0.0.1", "PORT": str(self.port),
        }
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve"], cwd=REPO_ROOT, env=env,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + API_READY_TIMEOUT
        async with httpx.AsyncClient(base_url=self.base_url, timeout=5) as http:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"API {self.name} exited with {self.process.returncode}:\n{self.log()}"
                    )
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/health")).status_code == 200:
                        return self
                if time.monotonic() > deadline:
                    await self.stop()
                    raise TimeoutError(f"API {self.name} not healthy in {API_READY_TIMEOUT}s")
                await asyncio.sleep(POLL_INTERVAL)

    async def stop(self) -> int:
        """SIGTERM (uvicorn's graceful shutdown runs the lifespan's end) and wait for the exit.

        The exit status is -SIGTERM even after a clean shutdown: uvicorn re-raises the signal
        it caught once it has shut down, so the status alone does not tell a clean stop.
        """
        if self.process is None:
            return 0
        return await asyncio.to_thread(_stop, self.process)


@contextlib.asynccontextmanager
async def api_processes(
    count: int, env: dict[str, str], log_dir: Path, **per_process: dict[str, str]
) -> AsyncIterator[list[ApiProcess]]:
    """`count` API processes (a, b, …) started together; `per_process[name]` adds to `env`."""
    names = "abcdefgh"[:count]
    processes = [
        ApiProcess(name, {**env, **per_process.get(name, {})}, log_dir / f"api-{name}.log")
        for name in names
    ]
    try:
        await asyncio.gather(*(process.start() for process in processes))
        yield processes
    finally:
        await asyncio.gather(*(process.stop() for process in processes), return_exceptions=True)
