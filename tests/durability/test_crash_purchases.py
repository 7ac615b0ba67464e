"""Money survives crashes: purchases from several buyers run against the API (its own OS
process) while the database, and then the API, is killed with SIGKILL and started again on
the same data. Whatever the API acknowledged must be there, and nothing may move twice."""

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pymongo import AsyncMongoClient

from app.core.embedded import EmbeddedMongo
from tests.durability.load import Acks, buying, invariants
from tests.durability.serving import Served
from tests.helpers import Account, Api, eventually

pytestmark = pytest.mark.durability
DB_NAME = "parts_platform"
CLIENTS = 4
BEFORE_CRASH = 3  # captured payments before the kill
AFTER_CRASH = 2  # completed purchases after it, to show the platform works again
PHASE_TIMEOUT = 40.0


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[EmbeddedMongo]:
    server = EmbeddedMongo(str(tmp_path / "db")).start()
    yield server
    server.stop()


@pytest.fixture
async def api_process(tmp_path: Path, database: EmbeddedMongo) -> AsyncIterator[Served]:
    served = Served(tmp_path / "api", {"MONGODB_URL": database.url, "MONGODB_DB": DB_NAME})
    served.data_dir.mkdir()
    await served.start()
    yield served
    served.force_stop()


async def _root(http: httpx.AsyncClient) -> Account:
    return await Api(http).root_admin()


async def _progress(acks: Acks, what: str, count: int) -> None:
    async def probe() -> tuple[int, Acks]:
        return (len(acks.captured) if what == "captured" else acks.completed), acks

    await eventually(probe, lambda value: value[0] >= count, PHASE_TIMEOUT)


async def _check(database: EmbeddedMongo, served: Served, acks: Acks) -> None:
    client: AsyncMongoClient = AsyncMongoClient(database.url, tz_aware=True)
    try:
        async with httpx.AsyncClient(base_url=served.base_url, timeout=30) as http:
            await invariants(client[DB_NAME], http, await _root(http), acks)
    finally:
        await client.close()


async def test_purchases_survive_kill_9_of_the_database(
    database: EmbeddedMongo, api_process: Served
):
    acks = Acks()
    process = database.process
    assert process is not None

    def kill_database(captured: int) -> None:
        if captured == BEFORE_CRASH:
            process.kill()  # SIGKILL, right after the API acknowledged a capture

    acks.on_capture = kill_database
    async with httpx.AsyncClient(base_url=api_process.base_url, timeout=30) as http:
        root = await _root(http)
    async with buying(api_process, root, acks, CLIENTS):
        await _progress(acks, "captured", BEFORE_CRASH)
        await asyncio.to_thread(process.wait)
        await eventually(api_process.ready_status, lambda status: status == 503, 10)
        await asyncio.to_thread(database.start)  # the same data directory and port
        await api_process.until_ready(30)
        completed = acks.completed
        await _progress(acks, "completed", completed + AFTER_CRASH)

    assert len(acks.released) >= AFTER_CRASH
    await _check(database, api_process, acks)


async def test_purchases_survive_kill_9_of_the_api(database: EmbeddedMongo, api_process: Served):
    acks = Acks()
    process = api_process.process
    assert process is not None

    def kill_api(captured: int) -> None:
        if captured == BEFORE_CRASH:
            process.kill()  # SIGKILL: no shutdown, leases held and requests cut off

    acks.on_capture = kill_api
    async with httpx.AsyncClient(base_url=api_process.base_url, timeout=30) as http:
        root = await _root(http)
    async with buying(api_process, root, acks, CLIENTS):
        await _progress(acks, "captured", BEFORE_CRASH)
        await asyncio.to_thread(process.wait)
        started = time.monotonic()
        await api_process.start()  # the same port, the same database
        assert time.monotonic() - started < 60
        completed = acks.completed
        await _progress(acks, "completed", completed + AFTER_CRASH)

    assert len(acks.released) >= AFTER_CRASH
    await _check(database, api_process, acks)
