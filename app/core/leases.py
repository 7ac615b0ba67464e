"""Leases: only one process at a time runs a given background job; and the journal of runs."""

import os
import socket
import uuid
from datetime import datetime, timedelta

from beanie import Document
from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from app.core import clock

INSTANCE_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
JOURNAL_DAYS = 1


class Lease(Document):
    id: str
    holder: str
    expires_at: datetime

    class Settings:
        name = "leases"


async def acquire(name: str, ttl_seconds: float, holder: str = INSTANCE_ID) -> bool:
    """Take or renew the lease; False when another live holder has it."""
    now = clock.utcnow()
    collection = Lease.get_pymongo_collection()
    try:
        result = await collection.update_one(
            {"_id": name, "$or": [{"holder": holder}, {"expires_at": {"$lt": now}}]},
            {"$set": {"holder": holder, "expires_at": now + timedelta(seconds=ttl_seconds)}},
            upsert=True,
        )
    except DuplicateKeyError:
        return False
    return result.matched_count == 1 or result.upserted_id is not None


async def all_leases() -> list[Lease]:
    """Every job's lease (one document a job), for /ready."""
    return await Lease.find_all().sort("_id").to_list()


async def release(name: str, holder: str = INSTANCE_ID) -> None:
    await Lease.get_pymongo_collection().delete_one({"_id": name, "holder": holder})


class JobRun(Document):
    """One run of a background job by the instance that held its lease (JOB_RUN_JOURNAL)."""

    job: str
    holder: str
    started_at: datetime
    ended_at: datetime

    class Settings:
        name = "job_runs"
        indexes = [
            IndexModel([("job", ASCENDING), ("started_at", ASCENDING)], name="by_job"),
            IndexModel([("started_at", ASCENDING)], name="expiry",
                       expireAfterSeconds=JOURNAL_DAYS * 86_400),
        ]


async def record_run(name: str, started_at: datetime, ended_at: datetime,
                     holder: str = INSTANCE_ID) -> None:
    await JobRun.get_pymongo_collection().insert_one(
        {"job": name, "holder": holder, "started_at": started_at, "ended_at": ended_at}
    )
