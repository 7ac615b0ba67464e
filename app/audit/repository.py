"""Every query on the audit trail: raw entries, the chain head, and reads for auditors."""

from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.cursor import AsyncCursor

from app.audit.models import AuditChainHead, AuditEntry
from app.core.database import Session
from app.core.pagination import DESCENDING, PageRequest, paginate
from app.core.permissions import Actor, Permission
from app.core.policy import OwnerFields, visibility_filter

HEAD_ID = "audit"


def _entries() -> AsyncCollection:
    return AuditEntry.get_pymongo_collection()


def _heads() -> AsyncCollection:
    return AuditChainHead.get_pymongo_collection()


async def insert_entry(session: Session | None, entry: dict[str, Any]) -> None:
    await _entries().insert_one(entry, session=session)


async def pending_entries(limit: int) -> list[dict[str, Any]]:
    """Committed entries not yet chained, oldest id first."""
    return await _entries().find({"pending": True}).sort("_id", ASCENDING).limit(limit).to_list()


async def count_pending() -> int:
    return await _entries().count_documents({"pending": True})


async def chain_head(session: Session | None = None) -> dict[str, Any] | None:
    return await _heads().find_one({"_id": HEAD_ID}, session=session)


async def link_entries(session: Session, links: list[tuple[str, int, str, str]]) -> bool:
    """Give each (id, seq, prev_hash, hash) entry its place, only while it is still pending;
    False unless every one of them was."""
    updates = [
        UpdateOne(
            {"_id": entry_id, "pending": True},
            {"$set": {"seq": seq, "prev_hash": prev, "hash": digest}, "$unset": {"pending": ""}},
        )
        for entry_id, seq, prev, digest in links
    ]
    result = await _entries().bulk_write(updates, ordered=True, session=session)
    return result.modified_count == len(updates)


async def move_head(session: Session, from_seq: int, to_seq: int, hash_: str, create: bool) -> bool:
    """Advance the head from `from_seq` (creating it when `create`); False if it had moved."""
    moved = await _heads().update_one(
        {"_id": HEAD_ID, "seq": from_seq},
        {"$set": {"seq": to_seq, "hash": hash_}},
        upsert=create,
        session=session,
    )
    return moved.matched_count == 1 or moved.upserted_id is not None


def sequenced_up_to(last_seq: int | None) -> AsyncCursor:
    """Chained entries in `seq` order, up to `last_seq` when given (for the verifier)."""
    upto = {"$lte": last_seq} if last_seq is not None else {}
    return _entries().find({"seq": {"$gte": 1, **upto}}).sort("seq", ASCENDING).batch_size(1000)


async def list_visible(
    actor: Actor, query: dict[str, Any], page: PageRequest
) -> tuple[list[dict[str, Any]], str | None]:
    """Entries matching `query`, newest first; only auditors (AUDIT_READ) see any."""
    scope = visibility_filter(actor, OwnerFields(), Permission.AUDIT_READ)
    return await paginate(
        _entries(), {"$and": [query, scope]} if scope else query, page,
        sort_field="at", direction=DESCENDING,
    )
