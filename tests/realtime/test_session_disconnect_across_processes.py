"""With Redis, ending sessions on one API process disconnects their clients on another: the
room-wide disconnect travels through the Socket.IO Redis channel like an emit."""

import asyncio
from pathlib import Path

import httpx
import pytest
import socketio

from tests.core.test_redis_multiprocess import redis_server, shared  # noqa: F401 (fixtures)
from tests.helpers import ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, eventually, unique_email
from tests.processes import RedisServer, api_processes

SOCKET_TIMEOUT = 10


async def test_suspension_on_one_process_disconnects_the_users_client_on_the_other(
    shared, redis_server: RedisServer, tmp_path: Path  # noqa: F811
):
    env, database = shared
    async with api_processes(2, env, tmp_path, b={"BACKGROUND_TASKS_ENABLED": "false"}) as (a, b):
        client = socketio.AsyncClient(reconnection=False, handle_sigint=False)
        try:
            async with httpx.AsyncClient(base_url=a.base_url, timeout=30) as http:
                email = unique_email("xproc")
                signup = await http.post("/api/auth/signup", json={
                    "email": email, "password": PASSWORD, "role": "customer", "name": "X"})
                user_id = signup.json()["data"]["user"]["id"]
                login = await http.post("/api/auth/login", json={"email": email, "password": PASSWORD})
                token = login.json()["data"]["accessToken"]
                await client.connect(b.base_url, auth={"token": token}, transports=["websocket"],
                                     wait_timeout=SOCKET_TIMEOUT)
                with redis_server.client() as redis:  # B listens on the channel from now on
                    await eventually(lambda: asyncio.to_thread(redis.pubsub_numsub, "socketio"),
                                     lambda counts: counts[0][1] >= 1)
                admin = await http.post(
                    "/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
                suspend = await http.patch(
                    f"/api/users/{user_id}/status", json={"status": "suspended", "reason": "Fraud"},
                    headers={"Authorization": f"Bearer {admin.json()['data']['accessToken']}"},
                )
                assert suspend.status_code == 200, suspend.text

                async def connected() -> bool:
                    return client.connected

                await eventually(connected, lambda still: not still)
            retry = socketio.AsyncClient(reconnection=False, handle_sigint=False)
            with pytest.raises(socketio.exceptions.ConnectionError):
                await retry.connect(b.base_url, auth={"token": token}, transports=["websocket"],
                                    wait_timeout=SOCKET_TIMEOUT)
        finally:
            await client.disconnect()
    assert (await database.users.find_one({"_id": user_id}))["session_ids"] == []
