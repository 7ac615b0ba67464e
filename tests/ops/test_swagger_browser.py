"""Swagger UI in a real browser with no internet: headless Chromium (Debian's, driven by npm
`playwright-core`) opens /docs with every off-origin request refused, authorizes with a token
and executes GET /api/users/me."""

import json
from pathlib import Path

from tests.browser import live_api, playwright_core, run_browser_script  # noqa: F401 (fixtures)
from tests.helpers import Api
from tests.live import LiveServer

SCRIPT = Path(__file__).with_name("swagger_browser.cjs")


async def test_swagger_ui_authorizes_and_executes_offline(
    playwright_core: Path, live_api: Api, live_server: LiveServer  # noqa: F811
):
    customer = await live_api.customer()
    result = await run_browser_script(
        playwright_core, SCRIPT, {"baseUrl": live_server.base_url, "token": customer.token})

    assert result["offOrigin"] == [], result
    assert result["status"] == "200", result
    body = json.loads(result["body"])
    assert body["success"] is True and body["data"]["email"] == customer.email
    assert f"Authorization: Bearer {customer.token}" in result["curl"]
    assert not [error for error in result["consoleErrors"] if "Content Security Policy" in error]
