"""Every query on the audit trail: raw entries, the chain head, and reads for auditors."""

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.cursor import AsyncCursor
from pymongo.errors import DuplicateKeyError

from app.audit.models import AuditChainHead, AuditCheckpoint, AuditEntry
from app.core.database import Session
from app.core.errors import BadRequest
from app.core.ids import new_id
from app.core.pagination import PageRequest, decode_cursor, encode_cursor, match, paginate
from app.core.permissions import Actor, Permission
from app.core.policy import OwnerFields, sees_all, visibility_filter

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


def sequenced_between(since: datetime, until: datetime, batch: int) -> AsyncCursor:
    """Chained entries with `at` in [since, until), in `seq` order, fetched `batch` at a time;
    the `newest` index serves the window (for the export)."""
    return (_entries().find({"at": {"$gte": since, "$lt": until}, "seq": {"$gte": 1}})
            .sort("seq", ASCENDING).batch_size(batch))


async def entries_about(subject_type: str, subject_ids: list[str]) -> list[dict[str, Any]]:
    """The entries (chained or still pending) about these subjects of one type: the
    `by_subject_seq` index's (type, id) prefix."""
    if not subject_ids:
        return []
    return await _entries().find(
        {"subject_type": subject_type, "subject_id": {"$in": subject_ids}}).to_list()


async def list_visible(
    actor: Actor, query: dict[str, Any], page: PageRequest, pending: bool = False
) -> tuple[list[dict[str, Any]], str | None]:
    """Chained entries matching `query` in chain order (`seq`, newest first); with `pending`,
    instead the entries still waiting for the sequencer (newest id first). Only auditors
    (AUDIT_READ) see any."""
    scope = visibility_filter(actor, OwnerFields(), Permission.AUDIT_READ)
    field, sort = ("_id", "pending") if pending else ("seq", "seq")
    window: dict[str, Any] = {"pending": True} if pending else {"seq": {"$gte": 1}}
    if page.cursor:
        last, _ = decode_cursor(page.cursor, sort)
        if not isinstance(last, str if pending else int) or isinstance(last, bool):
            raise BadRequest("Invalid cursor")
        window = {"pending": True, "_id": {"$lt": last}} if pending else {"seq": {"$lt": last}}
    clauses = [clause for clause in (query, scope, window) if clause]
    # A bare range on the sort field alone lets the embedded server walk the index in order.
    found = clauses[0] if len(clauses) == 1 else {"$and": clauses}
    docs = await _entries().find(found).sort(field, DESCENDING).limit(page.limit + 1).to_list()
    if len(docs) <= page.limit:
        return docs, None
    docs = docs[: page.limit]
    return docs, encode_cursor(docs[-1][field], docs[-1]["_id"], sort)


# --- checkpoints ---------------------------------------------------------------------------


def _checkpoints() -> AsyncCollection:
    return AuditCheckpoint.get_pymongo_collection()


async def last_checkpoint() -> dict[str, Any] | None:
    return await _checkpoints().find_one({}, sort=[("seq", DESCENDING)])


async def insert_checkpoint(checkpoint: dict[str, Any]) -> bool:
    """Store a signed checkpoint (as written to the file); False if its seq has one already."""
    document = {"_id": new_id("ckp"), "chain": checkpoint["chain"], "seq": checkpoint["seq"],
                "hash": checkpoint["hash"], "at": checkpoint["at"],
                "key_id": checkpoint["keyId"], "signature": checkpoint["signature"]}
    try:
        await _checkpoints().insert_one(document)
    except DuplicateKeyError:
        return False
    return True


async def first_checkpoint_from(seq: int) -> dict[str, Any] | None:
    """The first stored checkpoint at or after `seq` (the `seq_unique` index)."""
    return await _checkpoints().find_one({"seq": {"$gte": seq}}, sort=[("seq", ASCENDING)])


async def stored_checkpoints() -> list[dict[str, Any]]:
    """Every stored checkpoint in the file's shape (`keyId`), oldest first."""
    docs = await _checkpoints().find({}).sort("seq", ASCENDING).to_list()
    return [{"chain": doc.get("chain"), "seq": doc.get("seq"), "hash": doc.get("hash"),
             "at": doc.get("at"), "keyId": doc.get("key_id"), "signature": doc.get("signature")}
            for doc in docs]


# --- overrides -----------------------------------------------------------------------------


async def page_overrides(
    actor: Actor, since: datetime | None, until: datetime | None, page: PageRequest
) -> tuple[list[dict[str, Any]], str | None]:
    """Entries marked as overrides within [since, until), newest first, as soon as they are
    committed (chained or not), on the `by_override_at` index. Only OVERRIDES_READ sees any."""
    if not sees_all(actor, Permission.OVERRIDES_READ):
        return [], None
    query = match({"override": True}, "at", since, until)
    return await paginate(_entries(), query, page, sort_field="at", direction=DESCENDING)


async def count_overrides_since(actor: Actor, since: datetime) -> int:
    if not sees_all(actor, Permission.GOVERNANCE_READ):
        return 0
    return await _entries().count_documents({"override": True, "at": {"$gte": since}})
