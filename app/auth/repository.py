"""Every query on sign-in throttles (one document per normalised email)."""

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from app.auth.models import LoginThrottle


def _throttles() -> AsyncCollection:
    return LoginThrottle.get_pymongo_collection()


async def count_in_open_window(
    email: str, window_open: datetime, max_failures: int, expires_at: datetime
) -> int | None:
    """Count one attempt in the email's open, unexhausted window; its number, or None."""
    counted = await _throttles().find_one_and_update(
        {"_id": email, "window_started_at": {"$gt": window_open},
         "failures": {"$lt": max_failures}, "locked_until": None},
        {"$inc": {"failures": 1}, "$set": {"expires_at": expires_at}},
        return_document=ReturnDocument.AFTER,
    )
    return None if counted is None else int(counted["failures"])


async def start_window(
    email: str, now: datetime, window_open: datetime, expires_at: datetime
) -> bool:
    """Open a new window holding one attempt, unless the last window or lockout still runs."""
    over = [{"window_started_at": {"$lte": window_open}, "locked_until": None},
            {"locked_until": {"$lte": now}}]
    try:
        result = await _throttles().update_one(
            {"_id": email, "$or": over},
            {"$set": {"failures": 1, "window_started_at": now, "locked_until": None,
                      "expires_at": expires_at}},
            upsert=True,
        )
    except DuplicateKeyError:
        return False
    return result.modified_count == 1 or result.upserted_id is not None


async def get(email: str) -> dict[str, Any] | None:
    return await _throttles().find_one({"_id": email})


async def lock_exhausted(
    email: str, max_failures: int, locked_until: datetime, expires_at: datetime
) -> bool:
    """Lock the email if its window holds `max_failures`; True if this call locked it."""
    result = await _throttles().update_one(
        {"_id": email, "failures": {"$gte": max_failures}, "locked_until": None},
        {"$set": {"locked_until": locked_until, "expires_at": expires_at}},
    )
    return result.modified_count == 1


async def delete(email: str) -> None:
    await _throttles().delete_one({"_id": email})
