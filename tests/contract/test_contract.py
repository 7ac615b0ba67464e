"""`make contract` passes: `python -m tools.contract` starts the app as `make run` does and runs
newman over the Postman flows and schemathesis over /openapi.json (Node.js required: CI has
it, so its absence fails rather than skips)."""

import shutil
import subprocess
import sys

from tools.postman import REPO_ROOT

CONTRACT_TIMEOUT = 1500


def test_contract_holds_against_a_running_server():
    assert shutil.which("node") and shutil.which("npm"), "the contract run needs Node.js and npm"
    result = subprocess.run(
        [sys.executable, "-m", "tools.contract"], cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=CONTRACT_TIMEOUT,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
