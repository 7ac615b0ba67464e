"""The embedded database keeps what it acknowledged through a `kill -9`, and a database that
is gone fails a request within seconds instead of holding it for PyMongo's retry budget."""

import time
from pathlib import Path

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import ServerSelectionTimeoutError

from app.core.database import Database
from app.core.embedded import EmbeddedMongo

pytestmark = pytest.mark.durability
WRITES = 300


def _kill(server: EmbeddedMongo) -> None:
    assert server.process is not None
    server.process.kill()
    server.process.wait()


async def test_acknowledged_writes_and_a_committed_transaction_survive_kill_9(tmp_path: Path):
    server = EmbeddedMongo(str(tmp_path / "db")).start()
    try:
        database = Database(server.url, "durable")
        for number in range(WRITES):
            await database.db.plain.insert_one({"_id": number})

        async def move_money(session):  # noqa: ANN001, ANN202
            await database.db.debits.insert_one({"_id": "t1", "amount": 500}, session=session)
            await database.db.credits.insert_one({"_id": "t1", "amount": 500}, session=session)

        await database.transaction(move_money)
        await database.close()
        _kill(server)  # no clean shutdown, no checkpoint

        server.start()  # same directory, same port
        client: AsyncMongoClient = AsyncMongoClient(server.url)
        try:
            db = client["durable"]
            assert await db.plain.count_documents({}) == WRITES
            assert await db.debits.find_one({"_id": "t1"}) == {"_id": "t1", "amount": 500}
            assert await db.credits.find_one({"_id": "t1"}) == {"_id": "t1", "amount": 500}
        finally:
            await client.close()
    finally:
        server.stop()
    assert (tmp_path / "db" / "secantusd.toml").read_text().count("sync_on_commit = true") == 1
    assert not (tmp_path / "db" / "embedded-db.pid").exists()


async def test_a_transaction_on_a_dead_database_fails_within_seconds(tmp_path: Path):
    server = EmbeddedMongo(str(tmp_path / "db")).start()
    database = Database(server.url, "gone")
    calls = 0

    async def work(session):  # noqa: ANN001, ANN202
        nonlocal calls
        calls += 1
        await database.db.things.insert_one({"_id": calls}, session=session)

    try:
        await database.transaction(work)
        _kill(server)
        started = time.monotonic()
        with pytest.raises(ServerSelectionTimeoutError):
            await database.transaction(work)
        elapsed = time.monotonic() - started
        # PyMongo alone retries for 120 s. Here: the pooled connection is reset (a transient
        # error, retried once), the abort and then the retry each wait out server selection.
        assert elapsed < 6.0, f"held for {elapsed:.1f}s"
        assert calls == 3, calls
    finally:
        await database.close()
        server.stop()
