"""A real browser: two headless Chromium pages of /demo/call (Debian's chromium driven by npm
`playwright-core`, fake camera and microphone) sign in, join a job, chat when the server has
the chat events, and reach a connected WebRTC call through this server alone."""

from pathlib import Path

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from tests.browser import live_api, playwright_core, run_browser_script  # noqa: F401 (fixtures)
from tests.calls.factories import repair_job
from tests.helpers import Api
from tests.live import LiveServer

SCRIPT = Path(__file__).with_name("browser_call.cjs")


@pytest.mark.settings(calls={"stun_urls": []})  # loopback only: no STUN server out there
async def test_two_browser_pages_chat_and_reach_a_connected_call(
    playwright_core: Path, live_api: Api, live_server: LiveServer,  # noqa: F811
    mongo_db: AsyncDatabase,
):
    job = await repair_job(live_api)
    config = {
        "baseUrl": live_server.base_url, "jobId": job.id, "expectChat": True,
        "chatText": "Is 4 pm fine?",
        "caller": {"email": job.customer.email, "password": job.customer.password},
        "callee": {"email": job.provider.email, "password": job.provider.password},
    }
    result = await run_browser_script(playwright_core, SCRIPT, config)

    caller, callee = result["connected"]
    for page in (caller, callee):
        assert page["connectionState"] == "connected", result
        assert page["iceConnectionState"] in ("connected", "completed"), result
        assert page["status"] == "active" and page["remoteTracks"] == ["audio", "video"]
        assert page["remoteVideoWidth"] > 0
    assert caller["callId"] == callee["callId"]
    assert [page["status"] for page in result["ended"]] == ["ended", "ended"]
    assert result["chat"] == ["Is 4 pm fine?"], result
    doc = await mongo_db.calls.find_one({"_id": caller["callId"]})
    assert doc is not None
    assert (doc["status"], doc["caller_id"], doc["callee_id"], doc["end_reason"]) == (
        "ended", job.customer.id, job.provider.id, "hangup")
    assert doc["answered_at"] is not None and doc["type"] == "video"
