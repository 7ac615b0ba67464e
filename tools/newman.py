"""newman (npm, pinned) over the collection's two flow folders, against a running server.

`python -m tools.newman [BASE_URL]` runs them against a server you started (default: the
environment file's BASE_URL, ADMIN_EMAIL and ADMIN_PASSWORD)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tools.postman import COLLECTION_FILE, ENVIRONMENT_FILE, REPO_ROOT
from tools.postman_flows import FLOWS

NEWMAN = "newman@6.2.2"
NPM_DIR = REPO_ROOT / "var" / "npm" / "newman"
NEWMAN_BIN = NPM_DIR / "node_modules" / ".bin" / "newman"
INSTALL_TIMEOUT = 600
RUN_TIMEOUT = 600
REQUEST_TIMEOUT_MS = 60_000


class NewmanFailed(RuntimeError):
    """The flows failed (or newman could not run); the message is newman's report."""


def _installed_version() -> str | None:
    package = NPM_DIR / "node_modules" / "newman" / "package.json"
    if not package.exists():
        return None
    return json.loads(package.read_text()).get("version")


def install() -> Path:
    """newman at its pinned version in var/npm/newman (gitignored), installed once."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise NewmanFailed("Node.js (node and npm) is needed to run newman; install Node 20")
    if _installed_version() != NEWMAN.split("@", 1)[1]:
        NPM_DIR.mkdir(parents=True, exist_ok=True)
        installed = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--save-exact", "--prefix", str(NPM_DIR),
             NEWMAN],
            capture_output=True, text=True, timeout=INSTALL_TIMEOUT,
        )
        if installed.returncode != 0:
            raise NewmanFailed(f"npm install {NEWMAN} failed:\n{installed.stdout}{installed.stderr}")
    return NEWMAN_BIN


def run_flows(base_url: str, admin_email: str, admin_password: str) -> None:
    """Run the flow folders once against `base_url`; raise NewmanFailed with the report."""
    command = [str(install()), "run", str(COLLECTION_FILE), "-e", str(ENVIRONMENT_FILE)]
    for folder in FLOWS:
        command += ["--folder", folder]
    command += [
        "--env-var", f"BASE_URL={base_url}",
        "--env-var", f"ADMIN_EMAIL={admin_email}",
        "--env-var", f"ADMIN_PASSWORD={admin_password}",
        "--bail", "--timeout-request", str(REQUEST_TIMEOUT_MS),
        "--color", "off",  # and FORCE_COLOR=0 below, which uncolours the failure table too
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT,
                                cwd=REPO_ROOT, env={**os.environ, "FORCE_COLOR": "0"})
    except subprocess.TimeoutExpired as timeout:
        partial = timeout.stdout or b""
        if isinstance(partial, bytes):
            partial = partial.decode(errors="replace")
        raise NewmanFailed(f"newman did not finish in {RUN_TIMEOUT}s:\n{partial}") from None
    report = result.stdout + result.stderr
    if result.returncode != 0:
        raise NewmanFailed(f"newman exited with {result.returncode}:\n{report}")
    print(report)


def main() -> None:
    values = {item["key"]: item["value"] for item in json.loads(ENVIRONMENT_FILE.read_text())["values"]}
    base_url = sys.argv[1] if len(sys.argv) > 1 else values["BASE_URL"]
    try:
        run_flows(base_url, values["ADMIN_EMAIL"], values["ADMIN_PASSWORD"])
    except NewmanFailed as failure:
        print(failure, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
