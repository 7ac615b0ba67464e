"""The contract run (`python -m tools.contract`: a fresh server, newman over the Postman flows,
schemathesis over every operation for five roles) takes minutes, most of them waiting on its
own server. It starts as soon as the session knows it will run it and works beside the rest
of the suite; `test_contract` collects its outcome."""

import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tools.postman import REPO_ROOT

CONTRACT_TEST = "test_contract_holds_against_a_running_server"


@dataclass
class ContractRun:
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


contract_run_key = pytest.StashKey[ContractRun]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any(item.name == CONTRACT_TEST for item in items):
        return
    log = Path(tempfile.mkstemp(prefix="contract-", suffix=".log")[1])
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "tools.contract"], cwd=REPO_ROOT,
                                   stdout=out, stderr=subprocess.STDOUT)
    config.stash[contract_run_key] = ContractRun(process, log)


def pytest_unconfigure(config: pytest.Config) -> None:
    run = config.stash.get(contract_run_key, None)
    if run is not None and run.process.poll() is None:
        run.process.terminate()  # the session ended first (-x, Ctrl-C): it stops its server
        try:
            run.process.wait(60)
        except subprocess.TimeoutExpired:
            run.process.kill()


@pytest.fixture
def contract_run(request: pytest.FixtureRequest) -> ContractRun:
    return request.config.stash[contract_run_key]
