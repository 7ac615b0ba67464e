"""Queues of things awaiting an admin's decision, read oldest first from a keyset position.

Each domain answers for its own queue (a repository call on an index that starts with the
queue's condition and ends with its time field and `_id`); the governance console merges
them into one queue (app/admin/approvals.py)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection


@dataclass(frozen=True)
class Waiting:
    """One thing awaiting a decision, and since when."""

    subject_id: str
    since: datetime


@dataclass(frozen=True)
class QueuePosition:
    """Read on after (since, after_id): items at `since` with an `_id` above `after_id` come
    next. An `after_id` of "" takes every item at `since`; MAX_ID takes none of them."""

    since: datetime
    after_id: str = ""

    def clause(self, field: str) -> dict[str, Any]:
        return {"$or": [{field: {"$gt": self.since}},
                        {field: self.since, "_id": {"$gt": self.after_id}}]}


MAX_ID = "\U0010ffff"


async def oldest_waiting(
    collection: AsyncCollection, query: dict[str, Any], time_field: str,
    after: QueuePosition | None, limit: int,
) -> list[Waiting]:
    """Up to `limit` documents matching `query`, oldest `time_field` first (then `_id`)."""
    found = query if after is None else {"$and": [query, after.clause(time_field)]}
    docs = await collection.find(found, {time_field: 1}).sort(
        [(time_field, ASCENDING), ("_id", ASCENDING)]).limit(limit).to_list()
    return [Waiting(subject_id=doc["_id"], since=doc[time_field]) for doc in docs]
