"""STUN/TURN servers with coturn REST credentials; production refuses the default TURN secret;
the demo page is served outside production only."""

import base64
import hashlib
import hmac
import secrets

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from app.core import clock
from app.core.config_realtime import DEFAULT_TURN_SECRET, CallSettings
from app.main import create_fastapi
from tests.helpers import Api, assert_error
from tests.production import production_settings

TURN_SECRET = "k3Qv9zR2mXw8LpT4sY7bN1cD6fH0jA5eG"
TURN = {"stun_urls": ["stun:stun.example.net:3478"],
        "turn_urls": ["turn:turn.example.net:3478?transport=udp",
                      "turns:turn.example.net:5349?transport=tcp"],
        "turn_shared_secret": SecretStr(TURN_SECRET), "turn_credential_ttl_seconds": 600}


@pytest.mark.settings(calls=TURN)
async def test_turn_credentials_follow_the_coturn_rest_scheme(api: Api):
    customer = await api.customer()
    before = int(clock.utcnow().timestamp())

    response = await api.client.get("/api/calls/ice-servers", headers=customer.headers)

    assert response.status_code == 200, response.text
    data = response.json()["data"]
    stun, turn = data["iceServers"]
    assert stun == {"urls": TURN["stun_urls"], "username": None, "credential": None}
    assert turn["urls"] == TURN["turn_urls"]
    expiry, user_id = turn["username"].split(":")
    assert user_id == customer.id
    assert before + 600 <= int(expiry) <= before + 602
    expected = base64.b64encode(
        hmac.new(TURN_SECRET.encode(), turn["username"].encode(), hashlib.sha1).digest()
    ).decode()
    assert turn["credential"] == expected
    assert data["ttlSeconds"] == 600 and data["expiresAt"]


async def test_without_turn_urls_only_stun_is_handed_out(api: Api):
    customer = await api.customer()

    data = (await api.client.get("/api/calls/ice-servers", headers=customer.headers)).json()

    assert data["data"]["iceServers"] == [
        {"urls": ["stun:stun.l.google.com:19302"], "username": None, "credential": None}]
    assert_error(await api.client.get("/api/calls/ice-servers"), 401)


def test_production_refuses_the_default_turn_secret_when_turn_is_configured():
    with pytest.raises(ValidationError, match="TURN_SHARED_SECRET"):
        production_settings(calls=CallSettings(turn_urls=["turn:turn.example.net:3478"]))
    with pytest.raises(ValidationError, match="TURN_SHARED_SECRET"):
        production_settings(calls=CallSettings(turn_urls=["turn:turn.example.net:3478"],
                                               turn_shared_secret=SecretStr("short-secret")))

    generated = secrets.token_urlsafe(48)
    accepted = production_settings(calls=CallSettings(
        turn_urls=["turn:turn.example.net:3478"], turn_shared_secret=SecretStr(generated)))
    assert accepted.calls.turn_shared_secret.get_secret_value() == generated
    # No TURN server, no secret in use: the default is harmless.
    default = production_settings(calls=CallSettings())
    assert default.calls.turn_shared_secret.get_secret_value() == DEFAULT_TURN_SECRET


async def test_the_demo_page_and_its_scripts_are_served_in_development_and_test(api: Api):
    page = await api.client.get("/demo/call")
    script = await api.client.get("/demo/call/socket.io.min.js")
    app_js = await api.client.get("/demo/call/app.js")

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script src="/demo/call/socket.io.min.js">' in page.text
    assert script.status_code == 200 and "Socket.IO v4" in script.text[:200]
    assert app_js.status_code == 200 and "RTCPeerConnection" in app_js.text
    # No query parameter reaches the file system.
    assert (await api.client.get("/demo/call/app.js?name=../../main.py")).text == app_js.text


async def test_the_demo_page_is_404_in_production():
    app = create_fastapi(production_settings())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        for path in ("/demo/call", "/demo/call/app.js", "/demo/call/socket.io.min.js"):
            assert_error(await http.get(path), 404)
