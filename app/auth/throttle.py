"""Sign-in lockout: at most N failed attempts per email in a window, then a lockout.

Each attempt is counted *before* its password is checked, by one conditional update on the
email's throttle document, so concurrent guesses cannot all pass a check made before any of
them failed. A correct password forgets the count.
"""

import math
from datetime import datetime, timedelta

from app.auth import repository
from app.auth.exceptions import AccountLocked
from app.core import clock
from app.core.config import AuthSettings, settings


def _expiry(auth: AuthSettings, now: datetime) -> datetime:
    """Past this, neither the window nor a lockout started by now can still matter."""
    return now + timedelta(seconds=auth.login_failure_window_seconds + auth.login_lockout_seconds)


async def count_attempt(email: str) -> int:
    """Count one attempt on `email` and return its number in the window; 429 if none is left."""
    auth, now = settings().auth, clock.utcnow()
    window_open = now - timedelta(seconds=auth.login_failure_window_seconds)
    counted = await repository.count_in_open_window(
        email, window_open, auth.login_max_failures, _expiry(auth, now)
    )
    if counted is not None:
        return counted
    if await repository.start_window(email, now, window_open, _expiry(auth, now)):
        return 1
    raise AccountLocked(retry_after=await _retry_after(email, auth, now))


async def _retry_after(email: str, auth: AuthSettings, now: datetime) -> int:
    throttle = await repository.get(email)
    if throttle is None:
        return 1
    until = throttle.get("locked_until") or throttle["window_started_at"] + timedelta(
        seconds=auth.login_failure_window_seconds
    )
    return max(1, math.ceil((until - now).total_seconds()))


async def lock_if_exhausted(email: str) -> bool:
    """After a failure: lock the email once its window holds the maximum; True if this locked it."""
    auth, now = settings().auth, clock.utcnow()
    return await repository.lock_exhausted(
        email, auth.login_max_failures,
        locked_until=now + timedelta(seconds=auth.login_lockout_seconds),
        expires_at=_expiry(auth, now),
    )


async def forget(email: str) -> None:
    """A correct password clears the email's failed attempts."""
    await repository.delete(email)
