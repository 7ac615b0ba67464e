"""The embedded database: SecantusDB run as a separate child process over the wire protocol.

SecantusDB is GPL-licensed, so the application never imports it: it is started with
`python -m secantus` and spoken to like any MongoDB server.

On a data directory it always runs durably: a TOML config (`--config FILE`, read by
`secantus.config.load_config`) sets `[storage] sync_on_commit = true`, so WiredTiger fsyncs
its log on every commit. Without it, acknowledged writes and committed transactions were
lost when the server was killed (ARCHITECTURE.md, "Embedded database notes").
`:memory:` (the tests' server) has no journal at all and gets no config.

`DatabaseSupervisor` keeps the child alive under `parts-platform serve`: it reaps a dead
server at once, restarts it on the same data and port with back-off, and reports repeated
deaths.
"""

import asyncio
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

log = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 5.0
CONFIG_FILE = "secantusd.toml"
PID_FILE = "embedded-db.pid"
DURABLE_CONFIG = "# Written by the platform: fsync the journal on every commit.\n" \
                 "[storage]\nsync_on_commit = true\n"
# While the server is down, a request fails within this long (503) rather than the driver's
# 30 s default. Not on a real MongoDB URL: there, the operator's URL options decide.
MAX_IDLE_TIME_MS = 240_000
SERVER_SELECTION_TIMEOUT_MS = 2000
CONNECT_TIMEOUT_MS = 2000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EmbeddedMongo:
    """A SecantusDB child process; `url` is ready to use once `start()` returns."""

    def __init__(self, storage_path: str, port: int = 0) -> None:
        self.storage_path = storage_path
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.closed = False  # after stop(): a restart racing the shutdown must not spawn
        self._lock = threading.Lock()

    @property
    def durable(self) -> bool:
        return self.storage_path != ":memory:"

    @property
    def url(self) -> str:
        # retryWrites=false: the embedded server prunes its retryable-write registry on
        # every write, which makes writes ~10x slower; never add this to a real MongoDB URL.
        # No socketTimeoutMS: a killed server resets its sockets at once, and a socket
        # timeout would cut off legitimately slow queries (finds here are O(matches)).
        # maxIdleTimeMS: the server drops connections idle for 300 s, and without retryable
        # writes the next write on such a connection would fail; retire them before that.
        return (
            f"mongodb://127.0.0.1:{self.port}/?retryWrites=false&directConnection=true"
            f"&serverSelectionTimeoutMS={SERVER_SELECTION_TIMEOUT_MS}"
            f"&connectTimeoutMS={CONNECT_TIMEOUT_MS}&maxIdleTimeMS={MAX_IDLE_TIME_MS}"
        )

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def config_path(self) -> Path:
        return Path(self.storage_path) / CONFIG_FILE

    @property
    def pid_path(self) -> Path:
        return Path(self.storage_path) / PID_FILE

    def command(self) -> list[str]:
        command = [
            sys.executable, "-m", "secantus",
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--storage-path", self.storage_path,
            "--log-level", "WARNING",
        ]
        if self.durable:
            command += ["--config", str(self.config_path)]
        return command

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.durable:
            # SecantusDB's own test switch turns the journal off; never on real data.
            env.pop("SECANTUS_TEST_FAST_STORAGE", None)
            env["SECANTUS_FORCE_DURABLE"] = "1"
        return env

    def start(self) -> "EmbeddedMongo":
        if self.durable:
            Path(self.storage_path).mkdir(parents=True, exist_ok=True)
            self.config_path.write_text(DURABLE_CONFIG)
        with self._lock:
            if self.closed:
                raise RuntimeError("the embedded database was stopped")
            # Its own session: a Ctrl-C in the terminal reaches the API, which stops the
            # database itself once it has shut down cleanly (not the other way round).
            self.process = subprocess.Popen(
                self.command(), start_new_session=True, env=self._environment()
            )
            if self.durable:
                self.pid_path.write_text(f"{self.process.pid}\n")
        try:
            self._wait_until_ready()
        except BaseException:
            self._terminate()
            raise
        log.info("embedded database ready",
                 extra={"port": self.port, "path": self.storage_path, "pid": self.process.pid})
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        client: MongoClient = MongoClient(
            f"mongodb://127.0.0.1:{self.port}/?directConnection=true", serverSelectionTimeoutMS=250
        )
        try:
            while True:
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError(f"embedded database exited with {self.process.returncode}")
                try:
                    client.admin.command("ping")
                    return
                except PyMongoError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("embedded database did not answer ping") from None
                    time.sleep(0.1)
        finally:
            client.close()

    def stop(self) -> None:
        """Stop the server and wait for it to exit, so its data directory is released."""
        with self._lock:
            self.closed = True
        self._terminate()
        if self.durable:
            self.pid_path.unlink(missing_ok=True)

    def _terminate(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                # Safe: every acknowledged commit is already fsynced (sync_on_commit).
                self.process.kill()
                self.process.wait()


class DatabaseSupervisor:
    """Watches an `EmbeddedMongo` from the API's event loop and restarts it when it dies.

    A death is reaped within `poll_interval`, logged as an error, and followed by a restart
    on the same data and port after a back-off that doubles with each quick death (reset
    once the server has stayed up `window` seconds). `alert_after` deaths within `window`
    call `on_repeated_deaths(deaths, exit_codes)` once the server answers again (retried
    until it succeeds), so the alert lands in the database it is about.
    """

    def __init__(
        self,
        server: EmbeddedMongo,
        on_repeated_deaths: Callable[[int, list[int]], Awaitable[None]] | None = None,
        alert_after: int = 3,
        window: float = 60.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 10.0,
        poll_interval: float = 0.2,
    ) -> None:
        self.server = server
        self.on_repeated_deaths = on_repeated_deaths
        self.alert_after, self.window = alert_after, window
        self.backoff_initial, self.backoff_max = backoff_initial, backoff_max
        self.poll_interval = poll_interval
        self.deaths: deque[tuple[float, int]] = deque()
        self.restarts = 0
        self._alert_pending: tuple[int, list[int]] | None = None
        self._stopping = False

    def _recent_deaths(self, now: float) -> list[tuple[float, int]]:
        while self.deaths and now - self.deaths[0][0] > self.window:
            self.deaths.popleft()
        return list(self.deaths)

    def _backoff(self, recent: int) -> float:
        return min(self.backoff_initial * 2 ** max(recent - 1, 0), self.backoff_max)

    async def run(self) -> None:
        while not self._stopping:
            process = self.server.process
            code = process.poll() if process is not None else None
            if process is not None and code is None:
                await self._deliver_alert()
                await asyncio.sleep(self.poll_interval)
                continue
            await self._restart_after_death(process.pid if process else None, code)

    async def _restart_after_death(self, pid: int | None, code: int | None) -> None:
        now = time.monotonic()
        self.deaths.append((now, code if code is not None else -1))
        recent = self._recent_deaths(now)
        delay = self._backoff(len(recent))
        log.error(
            "embedded database died; restarting it on the same data",
            extra={"pid": pid, "exitCode": code, "deathsInWindow": len(recent),
                   "restartInSeconds": delay},
        )
        if len(recent) >= self.alert_after:
            self._alert_pending = (len(recent), [death[1] for death in recent])
        await asyncio.sleep(delay)
        if self._stopping:
            return
        try:
            await asyncio.to_thread(self.server.start)
        except Exception:
            log.exception("embedded database did not restart", extra={"port": self.server.port})
            return
        self.restarts += 1
        log.warning("embedded database restarted",
                    extra={"pid": self.server.pid, "port": self.server.port})

    async def _deliver_alert(self) -> None:
        if self._alert_pending is None or self.on_repeated_deaths is None:
            return
        deaths, codes = self._alert_pending
        try:
            await self.on_repeated_deaths(deaths, codes)
        except Exception:
            log.warning("could not record the database alert yet; will retry", exc_info=True)
            return
        self._alert_pending = None

    def stop(self) -> None:
        self._stopping = True
