"""Recording, sequencing, verifying and reading the audit trail."""

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from app.audit.chain import GENESIS_HASH, entry_hash, to_plain
from app.audit.models import AuditChainHead, AuditEntry
from app.core import clock
from app.core.context import current_source
from app.core.database import Session, transaction
from app.core.errors import RuleViolation
from app.core.ids import new_id
from app.core.pagination import DESCENDING, PageRequest, match, paginate
from app.core.permissions import Actor

HEAD_ID = "audit"
SEQUENCE_BATCH = 500

# Set after an audited write so the sequencer chains it without waiting for its next tick.
entries_written = asyncio.Event()


def _entries() -> AsyncCollection:
    return AuditEntry.get_pymongo_collection()


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
    await _entries().insert_one(entry, session=session)
    entries_written.set()
    return entry["_id"]


class ChainMoved(Exception):
    """Another sequencer extended the chain first; this batch is retried from the new head."""


async def sequence_pending(batch: int = SEQUENCE_BATCH) -> int:
    """Give committed, unsequenced entries their `seq`, `prevHash` and `hash`; returns how many."""
    pending = await _entries().find({"pending": True}).sort("_id", ASCENDING).limit(batch).to_list()
    if not pending:
        return 0

    async def chain(session: Session) -> int:
        heads = AuditChainHead.get_pymongo_collection()
        head = await heads.find_one({"_id": HEAD_ID}, session=session)
        start_seq, prev = (head["seq"], head["hash"]) if head else (0, GENESIS_HASH)
        updates, seq = [], start_seq
        for entry in pending:
            seq += 1
            digest = entry_hash(entry, seq, prev)
            updates.append(
                UpdateOne(
                    {"_id": entry["_id"], "pending": True},
                    {"$set": {"seq": seq, "prev_hash": prev, "hash": digest},
                     "$unset": {"pending": ""}},
                )
            )
            prev = digest
        result = await _entries().bulk_write(updates, ordered=True, session=session)
        if result.modified_count != len(updates):
            raise ChainMoved
        moved = await heads.update_one(
            {"_id": HEAD_ID, "seq": start_seq},
            {"$set": {"seq": seq, "hash": prev}},
            upsert=head is None,
            session=session,
        )
        if moved.matched_count == 0 and moved.upserted_id is None:
            raise ChainMoved
        return len(updates)

    try:
        return await transaction(chain)
    except ChainMoved:
        return 0


async def sequence_job() -> bool:
    return await sequence_pending() == SEQUENCE_BATCH


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
    pending = await _pending_count()
    head = await AuditChainHead.get_pymongo_collection().find_one({"_id": HEAD_ID})
    upto = {"$lte": head["seq"]} if head else {}
    cursor = _entries().find({"seq": {"$gte": 1, **upto}}).sort("seq", ASCENDING).batch_size(1000)
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


async def _pending_count() -> int:
    return await _entries().count_documents({"pending": True})


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
    filters: AuditFilter, page: PageRequest
) -> tuple[list[dict[str, Any]], str | None]:
    return await paginate(_entries(), filters.query(), page, sort_field="at", direction=DESCENDING)
