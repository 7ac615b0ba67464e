"""Recording, verifying and reading the audit trail (the sequencer is in `tasks.py`)."""

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.audit import repository
from app.audit.chain import GENESIS_HASH, entry_hash, to_plain
from app.core import clock
from app.core.context import current_source
from app.core.database import Session
from app.core.errors import RuleViolation
from app.core.ids import new_id
from app.core.pagination import PageRequest, match
from app.core.permissions import Actor

# Set after an audited write so the sequencer chains it without waiting for its next tick.
entries_written = asyncio.Event()


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields that changed, as {field: {"from": old, "to": new}}."""
    return {
        name: {"from": before.get(name), "to": value}
        for name, value in after.items()
        if before.get(name) != value
    }


async def record(
    session: Session | None,
    *,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: str,
    changes: dict[str, Any] | None = None,
    reason: str | None = None,
    override: bool = False,
    metadata: dict[str, Any] | None = None,
) -> str:
    """Append an audit entry; pass the change's session so both commit or neither does."""
    if override and not reason:
        raise RuleViolation("An override must give a reason", {"errors": [{"field": "reason"}]})
    source = current_source()
    entry = {
        "_id": new_id("aud"),
        "at": clock.utcnow(),
        "actor_id": actor.id,
        "actor_role": actor.role.value,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "changes": to_plain(changes or {}),
        "reason": reason,
        "override": override,
        "metadata": to_plain(metadata or {}),
        "source": {"ip": source.ip, "user_agent": source.user_agent, "trace_id": source.trace_id},
        "pending": True,
    }
    await repository.insert_entry(session, entry)
    entries_written.set()
    return entry["_id"]


@dataclass(frozen=True)
class ChainReport:
    valid: bool
    checked: int
    first_broken_seq: int | None
    pending: int


async def verify_chain() -> ChainReport:
    """Recompute every hash in `seq` order; report the first entry that does not fit.

    The head is read first and only entries up to it are checked: the sequencer keeps
    appending meanwhile, and an entry chained after the head was read is not a break.
    """
    pending = await repository.count_pending()
    head = await repository.chain_head()
    cursor = repository.sequenced_up_to(head["seq"] if head else None)
    expected_seq, prev, checked = 1, GENESIS_HASH, 0
    async for entry in cursor:
        if entry["seq"] != expected_seq or entry.get("prev_hash") != prev:
            return ChainReport(False, checked, expected_seq, pending)
        if entry_hash(entry, entry["seq"], prev) != entry.get("hash"):
            return ChainReport(False, checked, entry["seq"], pending)
        prev, checked, expected_seq = entry["hash"], checked + 1, expected_seq + 1
    if head and (head["seq"] != checked or head["hash"] != prev):
        return ChainReport(False, checked, checked + 1, pending)
    return ChainReport(True, checked, None, pending)


@dataclass(frozen=True)
class AuditFilter:
    actor_id: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    action: str | None = None
    override: bool | None = None
    since: datetime | None = None
    until: datetime | None = None

    def query(self) -> dict[str, Any]:
        equals = {"actor_id": self.actor_id, "subject_type": self.subject_type,
                  "subject_id": self.subject_id, "action": self.action, "override": self.override}
        return match(equals, "at", self.since, self.until)


async def list_entries(
    actor: Actor, filters: AuditFilter, page: PageRequest
) -> tuple[list[dict[str, Any]], str | None]:
    """Entries matching `filters` that `actor` may read, newest first."""
    return await repository.list_visible(actor, filters.query(), page)
