"""The hash chain of a remote session's events: each event's hash covers its content and the
previous event's hash, so an edited, removed or reordered event breaks every hash after it."""

import hashlib
import json
from datetime import UTC, datetime

from app.consent.models import RemoteSession, RemoteSessionEvent

GENESIS = "0" * 64


def stamp(at: datetime) -> datetime:
    """`at` at millisecond precision, as the database keeps it, so a hash recomputes."""
    at = at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def event_hash(session_id: str, seq: int, type_: str, detail: str, at: datetime, by: str,
               prev_hash: str) -> str:
    canonical = json.dumps(
        {"sessionId": session_id, "seq": seq, "type": type_, "detail": detail,
         "at": stamp(at).isoformat(timespec="milliseconds"), "by": by, "prevHash": prev_hash},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def hash_of(event: RemoteSessionEvent) -> str:
    return event_hash(event.session_id, event.seq, event.type.value, event.detail, event.at,
                      event.by, event.prev_hash)


def chain_valid(remote: RemoteSession, events: list[RemoteSessionEvent]) -> bool:
    """Positions 1..n without gaps, each linked to and hashed over the one before, and the
    last matching the session's head (so a removed last event shows too)."""
    previous = GENESIS
    for position, event in enumerate(events, start=1):
        if event.seq != position or event.prev_hash != previous or hash_of(event) != event.hash:
            return False
        previous = event.hash
    return len(events) == remote.event_count and previous == remote.last_hash
