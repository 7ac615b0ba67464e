"""Real-browser tests: Debian's chromium driven by npm `playwright-core` from a Node script.
They fail, never skip, where Node or Chromium is missing (`.ci/run` installs Chromium)."""

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import Api
from tests.live import LiveServer

REPO = Path(__file__).resolve().parents[1]
NPM_DIR = REPO / "var" / "npm" / "calls-browser"
PLAYWRIGHT_CORE = "playwright-core@1.65.1"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking",
                 "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
RUN_TIMEOUT = 180


def _missing() -> str | None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "Node.js (node and npm) is not installed"
    if not Path(CHROMIUM).exists():
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="session")
def playwright_core() -> Path:
    """playwright-core installed once with npm into var/ (gitignored), reused after."""
    if reason := _missing():
        pytest.fail(f"the browser tests need Node and Chromium: {reason}", pytrace=False)
    module = NPM_DIR / "node_modules" / "playwright-core"
    if not (module / "package.json").exists():
        NPM_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(NPM_DIR),
                        PLAYWRIGHT_CORE], check=True, timeout=600, capture_output=True)
    return module


@pytest.fixture
async def live_api(live_server: LiveServer) -> AsyncIterator[Api]:
    """The API of the live server the browser talks to."""
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as http:
        yield Api(http)


async def run_browser_script(playwright: Path, script: Path, config: dict[str, Any]) -> Any:
    """Run a Node script that drives Chromium (`config` plus where Chromium is, as its JSON
    argument) and return the JSON of its last line of output."""
    process = await asyncio.create_subprocess_exec(
        "node", str(script), json.dumps({"chromium": CHROMIUM, "args": CHROMIUM_ARGS, **config}),
        env={**os.environ, "PLAYWRIGHT_CORE": str(playwright)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, err.decode()[-4000:]
    return json.loads(out.decode().strip().splitlines()[-1])
