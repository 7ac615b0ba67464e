"""`python -m tools.contract` (`make contract`): the API contract checked against a real server.

Starts the app as `make run` does (`python -m app.cli serve` on an embedded database, here in
a fresh temporary folder, on a free port, rate limits off, a bootstrap superadmin), makes one
token per role, runs newman over the collection's flow folders and schemathesis over
`/openapi.json` (tools/schema_check.py), and always stops the server. Exits non-zero on any
failure. `--flows-only` skips schemathesis.
"""

import argparse
import os
import random
import signal
import string
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from app.core.embedded import free_port
from tools import schema_check
from tools.newman import NewmanFailed, run_flows
from tools.postman import ADMIN_EMAIL, ADMIN_PASSWORD, REPO_ROOT

READY_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0
POLL_INTERVAL = 0.2
PASSWORD = "C0ntract-Passw0rd!"
TOKEN_TTL_SECONDS = 4 * 3600
Tokens = dict[str, str | None]


class ContractFailed(RuntimeError):
    pass


class Server:
    """`python -m app.cli serve` in its own process group, its log in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.log_path = folder / "serve.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self) -> None:
        env = {
            **os.environ,
            "MONGODB_URL": "",  # empty is unset: the embedded database, as `make run` starts it
            "EMBEDDED_DB_PATH": str(self.folder / "db"),
            "AUDIT_SIGNING_KEY_FILE": str(self.folder / "audit" / "signing.key"),
            "AUDIT_CHECKPOINT_FILE": str(self.folder / "audit" / "checkpoints.jsonl"),
            "BOOTSTRAP_ADMIN_EMAIL": ADMIN_EMAIL, "BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "HOST": "127.0.0.1", "PORT": str(self.port), "RATE_LIMITS_ENABLED": "false",
            "APP_ENV": "development", "PAYMENT_GATEWAY": "sandbox", "PAYOUT_PROVIDER": "sandbox",
            "LOG_LEVEL": "WARNING",
            # schemathesis runs each role in turn, for minutes: the tokens made at the start
            # must outlive the run.
            "ACCESS_TOKEN_TTL_SECONDS": str(TOKEN_TTL_SECONDS),
        }
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve"], cwd=REPO_ROOT, env=env,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + READY_TIMEOUT
        with httpx.Client(base_url=self.base_url, timeout=5) as http:
            while True:
                if self.process.poll() is not None:
                    raise ContractFailed(f"the server exited with {self.process.returncode}:\n{self.log()}")
                try:
                    if http.get("/ready").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise ContractFailed(f"the server was not ready in {READY_TIMEOUT}s:\n{self.log()}")
                time.sleep(POLL_INTERVAL)

    def stop(self) -> None:
        """SIGTERM (the server stops its embedded database on the way out), SIGKILL if stuck."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _data(response: httpx.Response, status: int) -> dict:
    if response.status_code != status:
        raise ContractFailed(
            f"{response.request.method} {response.request.url.path}: expected {status}, "
            f"got {response.status_code}: {response.text}"
        )
    return response.json()["data"]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _login(http: httpx.Client, email: str, password: str) -> str:
    return _data(http.post("/api/auth/login", json={"email": email, "password": password}),
                 200)["accessToken"]


def _account(http: httpx.Client, role: str) -> str:
    """A new signed-in account of `role`; its access token."""
    email = f"contract-{role}-{uuid.uuid4().hex[:12]}@example.com"
    _data(http.post("/api/auth/signup", json={"email": email, "password": PASSWORD, "role": role,
                                              "name": f"Contract {role}"}), 201)
    return _login(http, email, PASSWORD)


def _gstin() -> str:
    letters = "".join(random.choices(string.ascii_uppercase, k=5))
    return f"27{letters}{random.randrange(10_000):04d}A1Z5"


def role_tokens(base_url: str) -> Tokens:
    """One access token per role: dealer and technician approved by the superadmin."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        admin = _login(http, ADMIN_EMAIL, ADMIN_PASSWORD)
        customer = _account(http, "customer")
        dealer = _account(http, "dealer")
        dealer_id = _data(http.post("/api/dealers", headers=_bearer(dealer), json={
            "businessName": "Contract Parts", "gstin": _gstin(),
            "address": {"line1": "12 MG Road", "city": "Pune", "state": "Maharashtra",
                        "pincode": "411001"},
            "contactPhone": "+919812345678",
        }), 201)["id"]
        _data(http.patch(f"/api/dealers/{dealer_id}/status", headers=_bearer(admin),
                         json={"action": "approve"}), 200)
        technician = _account(http, "technician")
        technician_id = _data(http.post("/api/technicians", headers=_bearer(technician), json={
            "skills": ["hardware", "software"], "specialities": ["display"],
            "certifications": [{"name": "Mobile Repair Level 2", "issuer": "ESSCI", "number": "C-1"}],
            "servicePincodes": ["560001"], "baseLocation": {"lat": 12.9352, "lng": 77.6245},
        }), 201)["id"]
        _data(http.patch(f"/api/technicians/{technician_id}/status", headers=_bearer(admin),
                         json={"action": "approve"}), 200)
    return {"anonymous": None, "customer": customer, "dealer": dealer,
            "technician": technician, "admin": admin}


def check(flows_only: bool = False) -> int:
    """Start the server, run the checks, stop it; the number of failed checks."""
    failures = 0
    with tempfile.TemporaryDirectory(prefix="contract-") as folder:
        server = Server(Path(folder))
        try:
            started = time.monotonic()
            server.start()
            print(f"server ready on {server.base_url} in {time.monotonic() - started:.1f}s")
            tokens = role_tokens(server.base_url)
            started = time.monotonic()
            try:
                run_flows(server.base_url, ADMIN_EMAIL, ADMIN_PASSWORD)
                print(f"newman: the flows passed in {time.monotonic() - started:.1f}s")
            except NewmanFailed as failure:
                print(f"newman: FAILED\n{failure}")
                failures += 1
            if not flows_only:
                failures += schema_check.run(server.base_url, tokens)
        except ContractFailed as failure:
            print(f"contract: FAILED\n{failure}")
            failures += 1
        finally:
            server.stop()
            if failures:
                print(f"--- server log ---\n{server.log()[-20_000:]}")
    return failures


def main() -> None:
    # Stopped from outside (the test session ended first): unwind, so the server stops too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows-only", action="store_true", help="newman only, no schemathesis")
    failures = check(parser.parse_args().flows_only)
    print("contract: OK" if not failures else f"contract: {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
