"""MongoDB connection, Beanie initialisation and the transaction helper."""

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import pymongo
from beanie import init_beanie
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ServerSelectionTimeoutError

from app.core.indexes import drop_retired

T = TypeVar("T")
Session = AsyncClientSession
PING_TIMEOUT_SECONDS = 2.0
AfterCommit = Callable[[], Awaitable[object]]
log = logging.getLogger(__name__)

# What each running transaction asked to do once it has committed, by its session's id.
_after_commit: dict[int, list[AfterCommit]] = {}


def after_commit(session: Session, callback: AfterCommit) -> bool:
    """Run `callback` once the transaction `session` runs (through `transaction`) has
    committed, never when it aborts; False (nothing scheduled) when it runs none."""
    callbacks = _after_commit.get(id(session))
    if callbacks is None:
        return False
    callbacks.append(callback)
    return True


# Command listeners given to every client created from now on (tests count the commands of
# each request with one). None by default: monitoring costs CPU on every command.
_command_listeners: list[monitoring.CommandListener] = []


def add_command_listener(listener: monitoring.CommandListener) -> None:
    """Hear every command of the database clients created after this call."""
    _command_listeners.append(listener)


def remove_command_listener(listener: monitoring.CommandListener) -> None:
    if listener in _command_listeners:
        _command_listeners.remove(listener)


class TransactionCounter:
    """Transactions run by this process and the attempts they took (`retries` = attempts
    beyond the first, i.e. `with_transaction` reruns after a write conflict)."""

    transactions = 0
    attempts = 0

    @classmethod
    def retries(cls) -> int:
        return cls.attempts - cls.transactions


class Database:
    """The process's client and database; one per app instance."""

    def __init__(
        self, url: str, name: str, event_listeners: Sequence[monitoring.CommandListener] = ()
    ) -> None:
        self.client: AsyncMongoClient = AsyncMongoClient(
            url, tz_aware=True, event_listeners=[*_command_listeners, *event_listeners]
        )
        self.db: AsyncDatabase = self.client[name]

    async def init_documents(
        self, document_models: list[type], retired_indexes: dict[str, tuple[str, ...]] | None = None
    ) -> None:
        """Drop the indexes the models retired, then let Beanie create the declared ones."""
        if retired_indexes:
            await drop_retired(self.db, retired_indexes)
        await init_beanie(database=self.db, document_models=document_models)

    async def ping(self) -> bool:
        """Ask the server to answer; fails within seconds (not the 30 s selection timeout)."""
        with pymongo.timeout(PING_TIMEOUT_SECONDS):
            await self.db.command("ping")
        return True

    async def transaction(self, work: Callable[[Session], Awaitable[T]]) -> T:
        """Run `work` in a transaction, retried on transient errors: it must be safe to rerun.

        Not retried when no server could be selected: PyMongo labels that transient too and
        would go on retrying for 120 s, holding the caller that long while the database is
        down; the caller gets the error now (503 through the error mapping) instead.
        What `work` schedules with `after_commit` runs after the commit; its failures are
        logged, not raised (the change has committed).
        """
        callbacks: list[AfterCommit] = []

        async def once(session: Session) -> T:
            TransactionCounter.attempts += 1
            callbacks.clear()  # a rerun after a write conflict schedules afresh
            try:
                return await work(session)
            except ServerSelectionTimeoutError as exc:
                exc._remove_error_label("TransientTransactionError")
                raise

        TransactionCounter.transactions += 1
        async with self.client.start_session() as session:
            _after_commit[id(session)] = callbacks
            try:
                result = await session.with_transaction(once)
            finally:
                del _after_commit[id(session)]
        for callback in callbacks:
            try:
                await callback()
            except Exception:
                log.exception("an after-commit step failed")
        return result

    async def close(self) -> None:
        await self.client.close()


_database: Database | None = None


def set_database(database: Database | None) -> None:
    global _database
    _database = database


def get_database() -> Database:
    if _database is None:
        raise RuntimeError("database is not initialised")
    return _database


async def transaction(work: Callable[[Session], Awaitable[T]]) -> T:
    return await get_database().transaction(work)
