"""Socket.IO on the same server: a valid token connects, anything else is refused.

Every test drives python-socketio's own `AsyncClient` against a real uvicorn on loopback.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import engineio
import httpx
import pytest
import socketio

from tests.helpers import ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, unique_email
from tests.live import LiveServer

CONNECT_TIMEOUT = 10
RECEIVE_TIMEOUT = 10
# Default (None): the polling handshake a browser starts with, then the upgrade to WebSocket.
CLIENT_TRANSPORTS = ["websocket", None]
CLIENT_TRANSPORT_IDS = ["websocket", "polling-upgraded"]
FOREIGN_ORIGIN = "http://evil.example"


@pytest.fixture
def server(live_server: LiveServer) -> LiveServer:
    return live_server


class SocketClient:
    """A real Socket.IO client that keeps what the server sends it, to be awaited with a deadline."""

    def __init__(self) -> None:
        # No reconnection and no SIGINT handler: a test process, not a long-lived app.
        self.sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
        self.refusals: asyncio.Queue[Any] = asyncio.Queue()
        self.sio.on("connect_error", self.refusals.put)

    async def connect(
        self, server: LiveServer, auth: Any, transport: str | None = "websocket",
        headers: dict[str, str] | None = None,
    ) -> None:
        await self.sio.connect(
            server.base_url, auth=auth, transports=[transport] if transport else None, headers=headers or {},
            wait_timeout=CONNECT_TIMEOUT,
        )

    def inbox(self, event: str) -> asyncio.Queue[Any]:
        received: asyncio.Queue[Any] = asyncio.Queue()
        self.sio.on(event, received.put)
        return received

    async def refusal_message(self) -> str:
        """The message of the server's CONNECT refusal, once it has arrived."""
        reason = await asyncio.wait_for(self.refusals.get(), RECEIVE_TIMEOUT)
        assert isinstance(reason, dict) and isinstance(reason.get("message"), str), reason
        return reason["message"]


@contextlib.asynccontextmanager
async def socket_client() -> AsyncIterator[SocketClient]:
    client = SocketClient()
    try:
        yield client
    finally:
        # Also closes the client's aiohttp session after a refused connection.
        await client.sio.disconnect()


async def signed_in_customer(server: LiveServer) -> tuple[str, str]:
    email = unique_email("socket")
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        signup = await http.post("/api/auth/signup", json={
            "email": email, "password": PASSWORD, "role": "customer", "name": "S"})
        login = await http.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert signup.status_code == 201 and login.status_code == 200, login.text
    return signup.json()["data"]["user"]["id"], login.json()["data"]["accessToken"]


@pytest.mark.parametrize("transport", CLIENT_TRANSPORTS, ids=CLIENT_TRANSPORT_IDS)
async def test_valid_token_connects_and_joins_the_users_own_room(server: LiveServer, transport: str | None):
    user_id, token = await signed_in_customer(server)

    async with socket_client() as client:
        notices = client.inbox("notice")
        await client.connect(server, {"token": token}, transport)
        assert client.sio.get_sid() and client.sio.transport() == "websocket"

        await server.app.sio.emit("notice", {"hello": user_id}, room=f"user:{user_id}")

        assert await asyncio.wait_for(notices.get(), RECEIVE_TIMEOUT) == {"hello": user_id}


# The client sends `{}` when given no auth, so "no-auth" is what a client that forgets it does.
@pytest.mark.parametrize("auth", [None, {}, {"token": "not-a-jwt"}, {"token": 42}],
                         ids=["no-auth", "no-token", "garbage", "not-a-string"])
async def test_connection_without_a_valid_token_is_refused(server: LiveServer, auth: Any):
    async with socket_client() as client:
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(server, auth)

        assert await client.refusal_message()
        assert not client.sio.connected


async def test_suspended_accounts_live_token_is_refused(server: LiveServer):
    user_id, token = await signed_in_customer(server)
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        admin = await http.post(
            "/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        suspend = await http.patch(
            f"/api/users/{user_id}/status", json={"status": "suspended", "reason": "Abuse"},
            headers={"Authorization": f"Bearer {admin.json()['data']['accessToken']}"},
        )
    assert suspend.status_code == 200, suspend.text

    async with socket_client() as client:
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(server, {"token": token})

        assert await client.refusal_message() == "this account is not active"


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_browser_from_a_foreign_origin_is_refused_at_the_handshake(
    server: LiveServer, transport: str
):
    _, token = await signed_in_customer(server)

    async with socket_client() as client:
        with pytest.raises(socketio.exceptions.ConnectionError) as refused:
            await client.connect(server, {"token": token}, transport, headers={"Origin": FOREIGN_ORIGIN})

    # Refused by Engine.IO before any Socket.IO CONNECT, even with a valid token.
    assert isinstance(refused.value.__cause__, engineio.exceptions.ConnectionError), refused.value


@pytest.mark.parametrize("transport", CLIENT_TRANSPORTS, ids=CLIENT_TRANSPORT_IDS)
async def test_browser_from_the_servers_own_origin_connects(server: LiveServer, transport: str | None):
    _, token = await signed_in_customer(server)

    async with socket_client() as client:
        await client.connect(server, {"token": token}, transport, headers={"Origin": server.base_url})

        assert client.sio.connected
