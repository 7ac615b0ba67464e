"""`make contract` passes: `python -m tools.contract` starts the app as `make run` does and runs
newman over the Postman flows and schemathesis over /openapi.json (Node.js required: CI has
it, so its absence fails rather than skips). The run starts when the session is collected
(tests/contract/conftest.py) and is awaited here."""

import shutil
import subprocess

from tests.contract.conftest import ContractRun

CONTRACT_TIMEOUT = 1500


def test_contract_holds_against_a_running_server(contract_run: ContractRun):
    assert shutil.which("node") and shutil.which("npm"), "the contract run needs Node.js and npm"
    try:
        returncode = contract_run.process.wait(CONTRACT_TIMEOUT)
    except subprocess.TimeoutExpired:
        contract_run.process.terminate()
        raise
    assert returncode == 0, contract_run.output()
    assert "contract: OK" in contract_run.output()
