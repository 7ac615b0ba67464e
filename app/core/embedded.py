"""The embedded database: SecantusDB run as a separate child process over the wire protocol.

SecantusDB is GPL-licensed, so the application never imports it: it is started with
`python -m secantus` and spoken to like any MongoDB server.
"""

import logging
import socket
import subprocess
import sys
import time
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

log = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 30.0


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

    @property
    def url(self) -> str:
        # retryWrites=false: the embedded server prunes its retryable-write registry on
        # every write, which makes writes ~10x slower; never add this to a real MongoDB URL.
        return f"mongodb://127.0.0.1:{self.port}/?retryWrites=false&directConnection=true"

    def start(self) -> "EmbeddedMongo":
        if self.storage_path != ":memory:":
            Path(self.storage_path).mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-m", "secantus",
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--storage-path", self.storage_path,
            "--log-level", "WARNING",
        ]
        # Its own session: a Ctrl-C in the terminal reaches the API, which stops the
        # database itself once it has shut down cleanly (not the other way round).
        self.process = subprocess.Popen(command, start_new_session=True)
        self._wait_until_ready()
        log.info("embedded database ready", extra={"port": self.port, "path": self.storage_path})
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        client: MongoClient = MongoClient(self.url, serverSelectionTimeoutMS=250)
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
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
