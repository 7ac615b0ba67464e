"""Swagger UI in a real browser with no internet: headless Chromium (Debian's, driven by npm
`playwright-core`) opens /docs with every off-origin request refused, authorizes with a token
and executes GET /api/users/me."""

import asyncio
import json
import os
from pathlib import Path

from tests.calls.test_browser_call import (  # noqa: F401 (api, playwright_core: fixtures)
    CHROMIUM,
    CHROMIUM_ARGS,
    RUN_TIMEOUT,
    api,
    playwright_core,
)
from tests.helpers import Api
from tests.live import LiveServer

SCRIPT = Path(__file__).with_name("swagger_browser.cjs")


async def test_swagger_ui_authorizes_and_executes_offline(
    playwright_core: Path, api: Api, live_server: LiveServer  # noqa: F811
):
    customer = await api.customer()
    config = {"baseUrl": live_server.base_url, "chromium": CHROMIUM, "args": CHROMIUM_ARGS,
              "token": customer.token}
    process = await asyncio.create_subprocess_exec(
        "node", str(SCRIPT), json.dumps(config),
        env={**os.environ, "PLAYWRIGHT_CORE": str(playwright_core)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, err.decode()[-4000:]
    result = json.loads(out.decode().strip().splitlines()[-1])

    assert result["offOrigin"] == [], result
    assert result["status"] == "200", result
    body = json.loads(result["body"])
    assert body["success"] is True and body["data"]["email"] == customer.email
    assert f"Authorization: Bearer {customer.token}" in result["curl"]
    assert not [error for error in result["consoleErrors"] if "Content Security Policy" in error]
