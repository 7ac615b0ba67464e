"""Live Socket.IO connections end with their sign-in session: a suspension disconnects every
connection of the account, a sign-out disconnects that session's, and neither token connects
again. python-socketio's AsyncClient against uvicorn on loopback."""

import httpx
import pytest
import socketio

from tests.helpers import ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, eventually, unique_email
from tests.live import LiveServer
from tests.realtime.test_socketio import socket_client


async def signed_in(http: httpx.AsyncClient, email: str) -> dict:
    login = await http.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return login.json()["data"]


async def customer(http: httpx.AsyncClient) -> tuple[str, str]:
    email = unique_email("live")
    signup = await http.post("/api/auth/signup", json={
        "email": email, "password": PASSWORD, "role": "customer", "name": "L"})
    assert signup.status_code == 201, signup.text
    return signup.json()["data"]["user"]["id"], email


async def disconnected(client) -> None:
    async def probe() -> bool:
        return client.sio.connected

    await eventually(probe, lambda connected: not connected)


async def test_suspension_disconnects_every_live_connection_of_the_account(
    live_server: LiveServer, mongo_db
):
    async with httpx.AsyncClient(base_url=live_server.base_url) as http:
        user_id, email = await customer(http)
        phone, laptop = await signed_in(http, email), await signed_in(http, email)
        admin = await http.post(
            "/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        admin_headers = {"Authorization": f"Bearer {admin.json()['data']['accessToken']}"}
        async with socket_client() as on_phone, socket_client() as on_laptop:
            await on_phone.connect(live_server, {"token": phone["accessToken"]})
            await on_laptop.connect(live_server, {"token": laptop["accessToken"]})
            assert on_phone.sio.connected and on_laptop.sio.connected

            suspend = await http.patch(
                f"/api/users/{user_id}/status", json={"status": "suspended", "reason": "Fraud"},
                headers=admin_headers,
            )

            assert suspend.status_code == 200, suspend.text
            await disconnected(on_phone)
            await disconnected(on_laptop)
        async with socket_client() as again:
            with pytest.raises(socketio.exceptions.ConnectionError):
                await again.connect(live_server, {"token": phone["accessToken"]})
            assert await again.refusal_message() == "this account is not active"
    assert (await mongo_db.users.find_one({"_id": user_id}))["session_ids"] == []


async def test_signing_out_disconnects_that_session_only_and_it_cannot_reconnect(
    live_server: LiveServer,
):
    async with httpx.AsyncClient(base_url=live_server.base_url) as http:
        _, email = await customer(http)
        leaving, staying = await signed_in(http, email), await signed_in(http, email)
        async with socket_client() as gone, socket_client() as kept:
            await gone.connect(live_server, {"token": leaving["accessToken"]})
            await kept.connect(live_server, {"token": staying["accessToken"]})

            out = await http.post("/api/auth/logout", json={"refreshToken": leaving["refreshToken"]})

            assert out.status_code == 200
            await disconnected(gone)
            assert kept.sio.connected
        async with socket_client() as again:
            with pytest.raises(socketio.exceptions.ConnectionError):
                await again.connect(live_server, {"token": leaving["accessToken"]})
            assert await again.refusal_message() == "this session has ended"
