"""With REDIS_URL, two API processes share the Socket.IO rooms: a message posted on process A
(REST) and one sent over a socket on A both reach a socket that joined the job's room on
process B. Two `python -m app.cli serve` processes, one database, a real redis-server."""

import asyncio
from pathlib import Path
from typing import Any

import httpx
import socketio

from tests.chat.factories import client_message_id, raw_repair
from tests.core.test_redis_multiprocess import redis_server, shared  # noqa: F401 (fixtures)
from tests.helpers import PASSWORD, eventually, unique_email
from tests.processes import RedisServer, api_processes

TIMEOUT = 10


async def account(http: httpx.AsyncClient, role: str) -> tuple[str, str]:
    email = unique_email(f"x{role}")
    signup = await http.post("/api/auth/signup", json={
        "email": email, "password": PASSWORD, "role": role, "name": "X"})
    assert signup.status_code == 201, signup.text
    login = await http.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    return signup.json()["data"]["user"]["id"], login.json()["data"]["accessToken"]


async def connected(base_url: str, token: str) -> tuple[socketio.AsyncClient, asyncio.Queue]:
    client = socketio.AsyncClient(reconnection=False, handle_sigint=False)
    inbox: asyncio.Queue[Any] = asyncio.Queue()
    client.on("chat:message", inbox.put)
    await client.connect(base_url, auth={"token": token}, transports=["websocket"],
                         wait_timeout=TIMEOUT)
    return client, inbox


async def test_a_message_sent_on_one_process_reaches_a_socket_on_the_other(
    shared, redis_server: RedisServer, tmp_path: Path  # noqa: F811
):
    env, database = shared
    async with (api_processes(2, env, tmp_path, b={"BACKGROUND_TASKS_ENABLED": "false"}) as (a, b),
                httpx.AsyncClient(base_url=a.base_url, timeout=30) as http):
        customer_id, customer_token = await account(http, "customer")
        technician_id, technician_token = await account(http, "technician")
        repair = raw_repair(customer_id, technician_id)
        await database.repairs.insert_one(repair)
        job_id = repair["_id"]
        on_b, inbox_b = await connected(b.base_url, customer_token)
        on_a, _ = await connected(a.base_url, technician_token)
        try:
            joined = await on_b.call("chat:join", {"jobId": job_id}, timeout=TIMEOUT)
            assert joined["ok"] is True, joined
            with redis_server.client() as redis:  # both listen on the channel
                await eventually(lambda: asyncio.to_thread(redis.pubsub_numsub, "socketio"),
                                 lambda counts: counts[0][1] >= 2)

            posted = await http.post(
                f"/api/chat/{job_id}/messages",
                json={"text": "Posted on A", "clientMessageId": client_message_id()},
                headers={"Authorization": f"Bearer {technician_token}"})
            over_socket = await on_a.call("chat:send", {
                "jobId": job_id, "text": "Sent over A's socket",
                "clientMessageId": client_message_id()}, timeout=TIMEOUT)

            assert posted.status_code == 201, posted.text
            assert await asyncio.wait_for(inbox_b.get(), TIMEOUT) == posted.json()["data"]
            assert over_socket["ok"] is True, over_socket
            assert await asyncio.wait_for(inbox_b.get(), TIMEOUT) == over_socket["data"]
        finally:
            await on_a.disconnect()
            await on_b.disconnect()
    stored = await database.chat_messages.find({"job_id": job_id}).sort("created_at", 1).to_list()
    assert [m["text"] for m in stored] == ["Posted on A", "Sent over A's socket"]
