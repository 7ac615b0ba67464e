"""The one source of the current time. Every module calls `clock.utcnow()`, so a test that
moves this clock moves it for the whole app (jobs, models' defaults and services alike)."""

from datetime import UTC, datetime, timedelta

_offset = timedelta(0)


def utcnow() -> datetime:
    return datetime.now(UTC) + _offset


def advance(by: timedelta) -> None:
    """Move the app's clock forward by `by` (tests only; production never calls this)."""
    global _offset
    _offset += by


def reset() -> None:
    global _offset
    _offset = timedelta(0)
