"""Every query on sign-in throttles (one document per (email, IP) pair and per IP)."""

import contextlib
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from app.auth.models import LoginThrottle


def _throttles() -> AsyncCollection:
    return LoginThrottle.get_pymongo_collection()


async def get(key: str) -> dict[str, Any] | None:
    return await _throttles().find_one({"_id": key})


async def take_check(key: str, max_failures: int, now: datetime, expires_at: datetime) -> bool:
    """Take one password check of the pair while its budget has room (or, once a throttle
    has run out, one probe at a time); False if none is free now."""
    room = {"used": {"$lt": max_failures}, "blocked_until": None}
    probe = {"blocked_until": {"$lte": now}, "checking": 0}
    take = ({"_id": key, "$or": [room, probe]},
            {"$inc": {"used": 1, "checking": 1}, "$set": {"expires_at": expires_at}})
    if (await _throttles().update_one(*take)).modified_count == 1:
        return True
    # No upsert on the conditional update: on the embedded server, concurrent conditional
    # upserts of one key lost increments (measured: 20 concurrent sign-ins left `checking`
    # at 2). Make sure the pair exists, whoever creates it, and take again: a sign-in that
    # loses the race to create it counts in the pair just created, never as refused.
    await _ensure(key, expires_at)
    return (await _throttles().update_one(*take)).modified_count == 1


async def _ensure(key: str, expires_at: datetime) -> None:
    """Create the key's document if missing (a concurrent creator wins silently)."""
    with contextlib.suppress(DuplicateKeyError):
        await _throttles().update_one(
            {"_id": key},
            {"$setOnInsert": {"failures": 0, "checking": 0, "used": 0, "expires_at": expires_at}},
            upsert=True,
        )


async def give_back_check(key: str) -> dict[str, Any] | None:
    """A correct password: return the check; the pair as it is after."""
    return await _throttles().find_one_and_update(
        {"_id": key, "checking": {"$gt": 0}},
        {"$inc": {"used": -1, "checking": -1}}, return_document=ReturnDocument.AFTER,
    )


async def forget_failures(key: str, failures: int) -> None:
    """Clear the pair's failures and throttle, unless more failures came meanwhile."""
    await _throttles().update_one(
        {"_id": key, "failures": failures},
        {"$inc": {"used": -failures}, "$set": {"failures": 0, "blocked_until": None}},
    )


async def check_failed(key: str, expires_at: datetime) -> int:
    """A wrong password on the pair: its check becomes a failure; the failures now."""
    after = await _throttles().find_one_and_update(
        {"_id": key, "checking": {"$gt": 0}},
        {"$inc": {"checking": -1, "failures": 1}, "$set": {"expires_at": expires_at}},
        return_document=ReturnDocument.AFTER,
    )
    return 1 if after is None else int(after["failures"])


async def count_failure(key: str, expires_at: datetime) -> int:
    """One more wrong password from an IP; its failures now."""
    count = ({"_id": key}, {"$inc": {"failures": 1}, "$set": {"expires_at": expires_at}})
    after = await _throttles().find_one_and_update(*count, return_document=ReturnDocument.AFTER)
    if after is None:
        # Created apart, as in take_check: concurrent upserting find_one_and_update calls of
        # one new key answered None on the embedded server (a 500 in a burst of failures).
        await _ensure(key, expires_at)
        after = await _throttles().find_one_and_update(
            *count, return_document=ReturnDocument.AFTER
        )
    return int(after["failures"]) if after else 1


async def block(key: str, failures: int, until: datetime, expires_at: datetime) -> None:
    """Throttle the key until `until`, unless a later failure already set a longer one."""
    await _throttles().update_one(
        {"_id": key, "failures": failures},
        {"$set": {"blocked_until": until, "expires_at": expires_at}},
    )
