"""Hash chain over audit entries: a canonical encoding and SHA-256 with the previous hash."""

import hashlib
import json
from datetime import UTC, datetime
from enum import Enum
from typing import Any

GENESIS_HASH = "0" * 64

# The fields that the hash covers; everything an entry says, plus its place in the chain.
HASHED_FIELDS = (
    "_id", "at", "actor_id", "actor_role", "action", "subject_type", "subject_id",
    "changes", "reason", "override", "metadata", "source",
)


def to_plain(value: Any) -> Any:
    """JSON-safe values that survive a database round trip unchanged (datetimes to ms)."""
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(key): to_plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_plain(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def format_time(value: datetime) -> str:
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def entry_hash(entry: dict[str, Any], seq: int, prev_hash: str) -> str:
    body = {name: to_plain(entry.get(name)) for name in HASHED_FIELDS}
    body["seq"] = seq
    body["prevHash"] = prev_hash
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
