"""Schemathesis over the live OpenAPI document, once per role.

`run(base_url, tokens)` tests every operation of `{base_url}/openapi.json` as each caller
in `tokens` (role → bearer access token; None for the anonymous caller) with the checks
below, prints a readable report and returns the number of failures. Bounded for CI: a few
examples per operation, no stateful phase, a fixed seed so a run can be repeated.

By hand, against `make run` (rate limits off: RATE_LIMITS_ENABLED=false):

    python -m tools.schema_check --base-url http://127.0.0.1:8000 \\
        --customer me@example.com:secret --admin admin@example.com:secret ...
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROLES = ("anonymous", "customer", "dealer", "technician", "admin")
CHECKS = ("not_a_server_error", "status_code_conformance", "response_schema_conformance",
          "negative_data_rejection")
MAX_EXAMPLES = 5
SEED = 16
# The sandbox gateway (mounted at /sandbox) and Socket.IO are not in the document; listed
# anyway so that a future schema including them does not slow the run down.
EXCLUDED_PATHS = r"^/(sandbox|socket\.io)(/|$)"
CONFIG = Path(__file__).with_name("schemathesis.toml")


def _command(schema_url: str, token: str | None, report: Path, seed: int) -> list[str]:
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run", schema_url,
        "--checks", ",".join(CHECKS),
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", str(seed),
        # One worker: with two threads Hypothesis' lambda introspection can race and fail a
        # run with an internal error; the server, not the client, is the bottleneck anyway.
        "--workers", "1",
        "--exclude-path-regex", EXCLUDED_PATHS,
        "--generation-database", "none",
        "--request-timeout", "30",
        "--report", "json", "--report-json-path", str(report),
        "--no-color",
    ]
    if token:
        command += ["--header", f"Authorization: Bearer {token}"]
    return command


def _check_role(schema_url: str, role: str, token: str | None, seed: int) -> int:
    with tempfile.TemporaryDirectory(prefix="schema-check-") as scratch:
        report_path = Path(scratch) / "report.json"
        started = time.monotonic()
        completed = subprocess.run(
            _command(schema_url, token, report_path, seed),
            capture_output=True, text=True, cwd=scratch, check=False,
        )
        elapsed = time.monotonic() - started
        if not report_path.exists():
            print(f"[{role}] schemathesis did not run (exit {completed.returncode}):")
            print(completed.stdout[-4000:], completed.stderr[-4000:], sep="\n")
            return 1
        report = json.loads(report_path.read_text())
    cases = report["test_cases"]
    failures = cases["unique_failures"] + len(report["errors"])
    print(f"[{role}] {report['operations']['tested']} operations, {cases['generated']} cases, "
          f"{failures} failures, {elapsed:.0f}s")
    if failures:
        # The CLI's own output names each failing operation, the check and a curl to replay.
        print(completed.stdout)
    return failures


def run(base_url: str, tokens: dict[str, str | None], seed: int = SEED) -> int:
    """Number of failures over every role in `tokens`; prints a report per role."""
    schema_url = f"{base_url.rstrip('/')}/openapi.json"
    return sum(_check_role(schema_url, role, token, seed) for role, token in tokens.items())


def _login(base_url: str, credentials: str) -> str:
    email, _, password = credentials.partition(":")
    response = httpx.post(f"{base_url.rstrip('/')}/api/auth/login",
                          json={"email": email, "password": password}, timeout=30)
    response.raise_for_status()
    return str(response.json()["data"]["accessToken"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--seed", type=int, default=SEED)
    for role in ROLES[1:]:
        parser.add_argument(f"--{role}", metavar="EMAIL:PASSWORD",
                            help=f"sign in as this {role} (the role is skipped without it)")
    arguments = parser.parse_args()
    tokens: dict[str, str | None] = {"anonymous": None}
    for role in ROLES[1:]:
        credentials = getattr(arguments, role)
        if credentials:
            tokens[role] = _login(arguments.base_url, credentials)
    failures = run(arguments.base_url, tokens, arguments.seed)
    print(f"{failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
