"""Two API processes on one database and one real Redis share rate limits, Socket.IO rooms and
background-job leases (the scaling path of ARCHITECTURE.md, shown on one machine).

Each process is `python -m app.cli serve` in its own OS process; every check goes over real
HTTP, real Socket.IO, or reads the shared database.
"""

import asyncio
import itertools
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from app.core.embedded import EmbeddedMongo
from app.payments.gateway import SANDBOX_PATH
from tests.helpers import ADMIN_EMAIL, ADMIN_PASSWORD, Api, eventually
from tests.orders import factories as order_factories
from tests.processes import ApiProcess, RedisServer, api_processes, find_redis_server

SOCKET_TIMEOUT = 10
SHIPPING = {"carrier": "BlueDart", "trackingNumber": "BD445566"}


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    binary = find_redis_server()
    if binary is None:
        pytest.fail(
            "redis-server not found: the Redis tests need a real one (Debian's redis-server, "
            "PyPI's redis-server under var/redis-server as .ci/run installs it, or $REDIS_SERVER)",
            pytrace=False,
        )
    server = RedisServer(binary).start()
    yield server
    server.stop()


@pytest.fixture
async def shared(
    mongo_server: EmbeddedMongo, redis_server: RedisServer
) -> AsyncIterator[tuple[dict[str, str], AsyncDatabase]]:
    """The environment both processes share (one database, one Redis), and that database."""
    redis_server.flush()
    name = f"test_{uuid.uuid4().hex[:12]}"
    env = {
        "APP_ENV": "test",
        "LOG_LEVEL": "WARNING",
        "MONGODB_URL": mongo_server.url,
        "MONGODB_DB": name,
        "REDIS_URL": redis_server.url,
        "RATE_LIMITS_ENABLED": "false",
        "BOOTSTRAP_ADMIN_EMAIL": ADMIN_EMAIL,
        "BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    client: AsyncMongoClient = AsyncMongoClient(mongo_server.url, tz_aware=True)
    yield env, client[name]
    await client.drop_database(name)
    await client.close()


async def test_rate_limit_is_shared_by_two_processes(shared, tmp_path: Path):
    env, _ = shared
    env = {**env, "RATE_LIMITS_ENABLED": "true", "RATE_LIMIT_CUSTOMER": "6"}
    async with api_processes(2, env, tmp_path) as servers, httpx.AsyncClient(timeout=10) as http:
        responses = []
        # Alternated: each process alone sees at most 4 requests, under its limit of 6.
        for server in itertools.islice(itertools.cycle(servers), 8):
            responses.append(await http.get(f"{server.base_url}/api/products"))

    assert [r.status_code for r in responses] == [200] * 6 + [429, 429]
    assert all(int(r.headers["Retry-After"]) >= 1 for r in responses[6:])


async def _shipped_order_of_a_new_buyer(api: Api, connect_buyer: Any) -> tuple[str, str]:
    """An order paid in the sandbox and shipped; `connect_buyer(token)` runs before shipping."""
    seller = await order_factories.shop(api)
    product = await order_factories.part(api, seller, b2c=60_000)
    buyer = await api.customer()
    order = await order_factories.placed(api, buyer, (product["id"], 1))
    started = await api.client.post(
        "/api/payments", json={"orderId": order["id"]},
        headers={**buyer.headers, "Idempotency-Key": f"multi-{uuid.uuid4().hex}"},
    )
    assert started.status_code == 201, started.text
    checkout = await api.client.post(
        f"{SANDBOX_PATH}/checkout/{started.json()['data']['gatewayOrderId']}",
        json={"outcome": "success", "deliverWebhook": False},
    )
    assert checkout.status_code == 200, checkout.text
    verified = await api.client.post(
        "/api/payments/verify", json=checkout.json(), headers=buyer.headers
    )
    assert verified.status_code == 200, verified.text
    await connect_buyer(buyer.token)
    for action, extra in (("pack", {}), ("ship", SHIPPING)):
        moved = await order_factories.move(api, seller.account, order["id"], action, **extra)
        assert moved.status_code == 200, moved.text
    return buyer.id, order["id"]


async def test_event_emitted_by_one_process_reaches_a_client_of_the_other(
    shared, redis_server: RedisServer, tmp_path: Path
):
    env, _ = shared
    # Only A runs jobs, so A's delivery-reminder job is what records and emits the reminder;
    # the shipping request A serves emits the `order_shipped` one. Both reach B's client.
    # A reminder is due as soon as an order ships when auto-confirmation is one day away.
    env = {**env, "DELIVERY_AUTO_CONFIRM_DAYS": "1", "ESCROW_JOB_INTERVAL_SECONDS": "0.2"}
    async with api_processes(2, env, tmp_path, b={"BACKGROUND_TASKS_ENABLED": "false"}) as (a, b):
        client = socketio.AsyncClient(reconnection=False, handle_sigint=False)
        notifications: asyncio.Queue[Any] = asyncio.Queue()
        client.on("notification", notifications.put)

        async def connect_to_b(token: str) -> None:
            await client.connect(b.base_url, auth={"token": token}, transports=["websocket"],
                                 wait_timeout=SOCKET_TIMEOUT)
            # B listens on the Redis channel from its first connection: wait until it does.
            with redis_server.client() as redis:
                await eventually(lambda: asyncio.to_thread(redis.pubsub_numsub, "socketio"),
                                 lambda counts: counts[0][1] >= 1)

        try:
            async with httpx.AsyncClient(base_url=a.base_url, timeout=30) as http:
                buyer_id, order_id = await _shipped_order_of_a_new_buyer(Api(http), connect_to_b)
            pushed = [await asyncio.wait_for(notifications.get(), SOCKET_TIMEOUT)
                      for _ in range(2)]
        finally:
            await client.disconnect()

    assert sorted((n["id"], n["kind"], n["subjectId"]) for n in pushed) == [
        (f"delivery-reminder:{order_id}", "delivery_reminder", order_id),
        (f"order-shipped:{order_id}", "order_shipped", order_id)]
    assert buyer_id


def _holder_pid(holder: str) -> int:
    return int(holder.split(":")[1])  # leases.INSTANCE_ID is host:pid:random


def _overlapping_runs(runs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Pairs of runs of one job, by different instances, whose times overlap."""
    return [
        (first, second)
        for first, second in itertools.combinations(runs, 2)
        if first["job"] == second["job"] and first["holder"] != second["holder"]
        and first["started_at"] < second["ended_at"] and second["started_at"] < first["ended_at"]
    ]


async def test_each_background_job_runs_in_one_process_at_a_time(shared, tmp_path: Path):
    env, db = shared
    env = {**env, "JOB_RUN_JOURNAL": "true", "ESCROW_JOB_INTERVAL_SECONDS": "0.2",
           "PAYOUT_RECONCILE_INTERVAL_SECONDS": "0.5"}

    async def runs_of(job: str) -> list[dict[str, Any]]:
        return await db.job_runs.find({"job": job}).sort("started_at", 1).to_list()

    async with api_processes(2, env, tmp_path) as servers:
        by_pid: dict[int, ApiProcess] = {server.pid: server for server in servers}
        await eventually(lambda: runs_of("audit-sequencer"), lambda runs: len(runs) >= 8)
        lease = await db.leases.find_one({"_id": "audit-sequencer"})
        first = by_pid[_holder_pid(lease["holder"])]
        (second,) = [server for server in servers if server is not first]

        # The holder stops, releasing its leases on the way out; the other takes every job over.
        stop_requested = datetime.now(UTC)
        await first.stop()
        assert await db.leases.count_documents({"holder": lease["holder"]}) == 0
        await eventually(
            lambda: runs_of("audit-sequencer"),
            lambda runs: sum(_holder_pid(run["holder"]) == second.pid for run in runs) >= 4,
        )
        await second.stop()

    runs = await db.job_runs.find({}).sort("started_at", 1).to_list()
    jobs = {run["job"] for run in runs}
    assert {"audit-sequencer", "order-reservation-expiry", "payment-sla"} <= jobs
    assert {_holder_pid(run["holder"]) for run in runs} == {first.pid, second.pid}
    # While both ran jobs, each job was run by one process only ...
    holders_while_both_ran: dict[str, set[str]] = defaultdict(set)
    for run in runs:
        if run["started_at"] < stop_requested:
            holders_while_both_ran[run["job"]].add(run["holder"])
    assert {job: len(holders) for job, holders in holders_while_both_ran.items()} == {
        job: 1 for job in holders_while_both_ran}
    # ... and across the hand-over no run of a job overlapped one by the other process.
    assert _overlapping_runs(runs) == []
    sequencer = [run for run in runs if run["job"] == "audit-sequencer"]
    assert {_holder_pid(run["holder"]) for run in sequencer} == {first.pid, second.pid}
