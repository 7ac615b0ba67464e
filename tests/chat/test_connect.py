"""Refusals at connect that tests/realtime does not already cover (it has: no auth, no token,
garbage, a non-string token, a suspended account, a signed-out session, a suspension
disconnecting live sockets): an expired token, a token signed with another secret, and a
blocked account's token."""

import jwt
import pytest
import socketio

from app.core.security import create_access_token
from tests.chat.factories import live_api
from tests.live import LiveServer
from tests.realtime.test_socketio import socket_client


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.mark.parametrize("kind", ["expired", "other-secret"])
async def test_a_token_that_is_expired_or_not_ours_is_refused(live_server: LiveServer, kind: str):
    async with live_api(live_server) as api:
        customer = await api.customer()
    claims = claims_of(customer.token)
    secret = live_server.config.auth.jwt_secret.get_secret_value()
    token = create_access_token(
        secret if kind == "expired" else secret + "-forged", claims["sub"], "customer", [],
        ttl_seconds=-60 if kind == "expired" else 600, session_id=claims["sid"],
    )

    async with socket_client() as client:
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(live_server, {"token": token})

        assert await client.refusal_message() == "invalid or expired token"
        assert not client.sio.connected
    # The account's own live token still connects: only the bad one was refused.
    async with socket_client() as client:
        await client.connect(live_server, {"token": customer.token})
        assert client.sio.connected


async def test_a_blocked_accounts_token_is_refused(live_server: LiveServer, mongo_db):
    async with live_api(live_server) as api:
        customer = await api.customer()
        admin = await api.admin("ops")
        blocked = await api.set_status(admin, customer.id, "blocked", "Fraud ring")
    assert blocked.status_code == 200, blocked.text

    async with socket_client() as client:
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(live_server, {"token": customer.token})

        assert await client.refusal_message() == "this account is not active"
    assert (await mongo_db.users.find_one({"_id": customer.id}))["status"] == "blocked"
