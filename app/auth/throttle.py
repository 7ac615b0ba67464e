"""Sign-in throttling that an attacker cannot turn against the account's owner (OWASP
authentication cheat sheet): failures count per (email, IP) pair and per IP, never per
account alone, and only once a password check has failed.

- A pair gets `LOGIN_MAX_FAILURES_PER_ACCOUNT_IP` wrong passwords; the one that reaches it
  throttles the pair for `LOGIN_BACKOFF_BASE_SECONDS`, and each wrong password after a
  throttle has run out doubles it, up to `LOGIN_BACKOFF_MAX_SECONDS` (429 + Retry-After).
  The owner signing in from another address is not affected.
- An IP gets `LOGIN_MAX_FAILURES_PER_IP` wrong passwords over all emails, then the same
  doubling throttle on every sign-in from it.
- Concurrent guesses are bounded: a password check takes one unit of the pair's remaining
  budget before it runs (an atomic counter); a correct password gives it back. A sign-in
  that finds the budget taken by checks still in flight waits for them (they end in
  milliseconds) instead of being refused, so a correct password is never refused because
  other sign-ins of the account were in flight.
- A correct password clears the pair's failures; the IP's are forgotten only with time
  (`LOGIN_FAILURE_MEMORY_SECONDS` after the last one).
"""

import asyncio
import math
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.auth import repository
from app.auth.exceptions import LoginThrottled
from app.core import clock
from app.core.config import AuthSettings, settings
from app.core.context import current_source

# How long a sign-in waits for checks in flight on its pair to finish before a 429.
CHECK_WAIT_SECONDS = 10.0
_WAIT_STEP_SECONDS = (0.01, 0.04)


@dataclass(frozen=True)
class Attempt:
    email: str
    ip: str

    @property
    def pair_key(self) -> str:
        return f"pair:{self.ip}:{self.email}"

    @property
    def ip_key(self) -> str:
        return f"ip:{self.ip}"


@dataclass(frozen=True)
class Failure:
    pair_failures: int
    ip_failures: int
    throttled: dict[str, int]  # key kind ("pair", "ip") -> seconds, for what this one throttled


def backoff_seconds(auth: AuthSettings, failures: int, max_failures: int) -> int:
    """The throttle after `failures` (>= max_failures): base, doubled per failure past it."""
    doublings = min(failures - max_failures, 30)
    return min(auth.login_backoff_base_seconds * 2**doublings, auth.login_backoff_max_seconds)


def _memory(auth: AuthSettings, now: datetime) -> datetime:
    return now + timedelta(seconds=auth.login_failure_memory_seconds + auth.login_backoff_max_seconds)


def _retry_after(blocked_until: datetime | None, now: datetime) -> int | None:
    if blocked_until is None or blocked_until <= now:
        return None
    return max(1, math.ceil((blocked_until - now).total_seconds()))


async def begin(email: str) -> Attempt:
    """Before a password check: 429 if the caller's IP or (email, IP) pair is throttled;
    otherwise one check of the pair's budget is taken (waiting for checks in flight)."""
    auth = settings().auth
    attempt = Attempt(email=email, ip=current_source().ip or "unknown")
    ip_state = await repository.get(attempt.ip_key)
    if ip_state and (wait := _retry_after(ip_state.get("blocked_until"), clock.utcnow())):
        raise LoginThrottled("Too many failed sign-ins from this address; try again later",
                             retry_after=wait)
    deadline = time.monotonic() + CHECK_WAIT_SECONDS
    while True:
        now = clock.utcnow()
        if await repository.take_check(
            attempt.pair_key, auth.login_max_failures_per_account_ip, now, _memory(auth, now)
        ):
            return attempt
        pair = await repository.get(attempt.pair_key)
        if pair and (wait := _retry_after(pair.get("blocked_until"), now)):
            raise LoginThrottled(retry_after=wait)
        if time.monotonic() > deadline:
            raise LoginThrottled(retry_after=1)
        await asyncio.sleep(random.uniform(*_WAIT_STEP_SECONDS))


async def succeeded(attempt: Attempt) -> None:
    """A correct password: give the check back and clear the pair's failures."""
    pair = await repository.give_back_check(attempt.pair_key)
    if pair and pair.get("failures"):
        await repository.forget_failures(attempt.pair_key, int(pair["failures"]))


async def abandoned(attempt: Attempt) -> None:
    """The check never ended (an error, or the request was cancelled mid-check): give it
    back, so that failing requests cannot use up the pair's budget and lock its owner out."""
    await repository.give_back_check(attempt.pair_key)


async def failed(attempt: Attempt) -> Failure:
    """A wrong password: count it on the pair and the IP, throttling either at its limit."""
    auth, now = settings().auth, clock.utcnow()
    expires_at = _memory(auth, now)
    pair_failures = await repository.check_failed(attempt.pair_key, expires_at)
    ip_failures = await repository.count_failure(attempt.ip_key, expires_at)
    throttled: dict[str, int] = {}
    for kind, key, failures, limit in (
        ("pair", attempt.pair_key, pair_failures, auth.login_max_failures_per_account_ip),
        ("ip", attempt.ip_key, ip_failures, auth.login_max_failures_per_ip),
    ):
        if failures >= limit:
            seconds = backoff_seconds(auth, failures, limit)
            await repository.block(key, failures, now + timedelta(seconds=seconds), expires_at)
            throttled[kind] = seconds
    return Failure(pair_failures, ip_failures, throttled)
