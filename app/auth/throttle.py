"""Sign-in lockout: at most N failed attempts per email in a window, then a lockout.

Each attempt is counted *before* its password is checked, by one conditional update on the
email's throttle document, so concurrent guesses cannot all pass a check made before any of
them failed. A correct password forgets the count.
"""

import math
from datetime import datetime, timedelta

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from app.auth.exceptions import AccountLocked
from app.auth.models import LoginThrottle
from app.core import clock
from app.core.config import AuthSettings, settings


def _throttles() -> AsyncCollection:
    return LoginThrottle.get_pymongo_collection()


def _expiry(auth: AuthSettings, now: datetime) -> datetime:
    """Past this, neither the window nor a lockout started by now can still matter."""
    return now + timedelta(seconds=auth.login_failure_window_seconds + auth.login_lockout_seconds)


async def count_attempt(email: str) -> int:
    """Count one attempt on `email` and return its number in the window; 429 if none is left."""
    auth, now = settings().auth, clock.utcnow()
    window_open = now - timedelta(seconds=auth.login_failure_window_seconds)
    counted = await _throttles().find_one_and_update(
        {"_id": email, "window_started_at": {"$gt": window_open},
         "failures": {"$lt": auth.login_max_failures}, "locked_until": None},
        {"$inc": {"failures": 1}, "$set": {"expires_at": _expiry(auth, now)}},
        return_document=ReturnDocument.AFTER,
    )
    if counted is not None:
        return int(counted["failures"])
    if await _start_window(email, auth, now, window_open):
        return 1
    raise AccountLocked(retry_after=await _retry_after(email, auth, now))


async def _start_window(email: str, auth: AuthSettings, now: datetime, window_open: datetime) -> bool:
    """Open a new window with this attempt once the last window or lockout is over."""
    over = [{"window_started_at": {"$lte": window_open}, "locked_until": None},
            {"locked_until": {"$lte": now}}]
    try:
        result = await _throttles().update_one(
            {"_id": email, "$or": over},
            {"$set": {"failures": 1, "window_started_at": now, "locked_until": None,
                      "expires_at": _expiry(auth, now)}},
            upsert=True,
        )
    except DuplicateKeyError:
        return False
    return result.modified_count == 1 or result.upserted_id is not None


async def _retry_after(email: str, auth: AuthSettings, now: datetime) -> int:
    throttle = await _throttles().find_one({"_id": email})
    if throttle is None:
        return 1
    until = throttle.get("locked_until") or throttle["window_started_at"] + timedelta(
        seconds=auth.login_failure_window_seconds
    )
    return max(1, math.ceil((until - now).total_seconds()))


async def lock_if_exhausted(email: str) -> bool:
    """After a failure: lock the email once its window holds the maximum; True if this locked it."""
    auth, now = settings().auth, clock.utcnow()
    result = await _throttles().update_one(
        {"_id": email, "failures": {"$gte": auth.login_max_failures}, "locked_until": None},
        {"$set": {"locked_until": now + timedelta(seconds=auth.login_lockout_seconds),
                  "expires_at": _expiry(auth, now)}},
    )
    return result.modified_count == 1


async def forget(email: str) -> None:
    """A correct password clears the email's failed attempts."""
    await _throttles().delete_one({"_id": email})
