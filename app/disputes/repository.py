"""Every query on disputes. Reads of what a caller may see take the `Actor`."""

from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from app.core.database import Session
from app.core.pagination import PageRequest, paginate
from app.core.permissions import Actor, Permission
from app.core.policy import OwnerFields, Owners, may_see, sees_all, visibility_filter
from app.disputes.models import Dispute, DisputeNote, DisputeStatus

PARTIES = OwnerFields(buyer="buyer_id", dealer="dealer_id", technician="technician_id")
UNRESOLVED = [DisputeStatus.OPEN.value, DisputeStatus.RESOLVING.value]


def _collection() -> AsyncCollection:
    return Dispute.get_pymongo_collection()


def owners(dispute: Dispute) -> Owners:
    return Owners(buyer_id=dispute.buyer_id, dealer_id=dispute.dealer_id,
                  technician_id=dispute.technician_id)


async def get(dispute_id: str, session: Session | None = None) -> Dispute | None:
    """A dispute by id, for the resolution's own steps (the caller was authorised already)."""
    doc = await _collection().find_one({"_id": dispute_id}, session=session)
    return Dispute.model_validate(doc) if doc else None


async def get_visible(actor: Actor, dispute_id: str) -> Dispute | None:
    """The dispute if `actor` is its buyer, the order's dealer or an admin reading all."""
    dispute = await get(dispute_id)
    if dispute is None or not may_see(actor, owners(dispute), Permission.DISPUTES_READ_ALL):
        return None
    return dispute


async def page_own(
    actor: Actor, status: DisputeStatus | None, page: PageRequest
) -> tuple[list[Dispute], str | None]:
    """The disputes the actor is a party to (its buyer, or the dealer of its order)."""
    query = visibility_filter(actor, PARTIES, None)
    if status is not None:
        query = {"$and": [query, {"status": status.value}]}
    return await _page(query, page)


async def page_visible(
    actor: Actor, query: dict[str, Any], page: PageRequest
) -> tuple[list[Dispute], str | None]:
    visible = visibility_filter(actor, PARTIES, Permission.DISPUTES_READ_ALL)
    if visible:
        query = {"$and": [query, visible]} if query else visible
    return await _page(query, page)


async def _page(query: dict[str, Any], page: PageRequest) -> tuple[list[Dispute], str | None]:
    docs, next_cursor = await paginate(_collection(), query, page)
    return [Dispute.model_validate(doc) for doc in docs], next_cursor


async def insert(session: Session, document: dict[str, Any]) -> None:
    await _collection().insert_one(dict(document), session=session)


async def open_dispute_id(order_id: str, session: Session | None = None) -> str | None:
    """The id of the order's (or repair's) unresolved dispute, if any."""
    doc = await _collection().find_one({"open_key": order_id}, {"_id": 1}, session=session)
    return doc["_id"] if doc else None


async def resolved_dispute_id(subject_id: str) -> str | None:
    """The id of a dispute of this order (or repair job, rep_…) resolved already, if any."""
    field = "repair_id" if subject_id.startswith("rep_") else "order_id"
    doc = await _collection().find_one(
        {field: subject_id, "status": DisputeStatus.RESOLVED.value}, {"_id": 1}
    )
    return doc["_id"] if doc else None


async def push_note(session: Session, dispute_id: str, note: DisputeNote, max_notes: int,
                    now: datetime) -> bool:
    """Add a note to an unresolved dispute holding fewer than `max_notes`."""
    result = await _collection().update_one(
        {"_id": dispute_id, "status": {"$in": UNRESOLVED},
         f"notes.{max_notes - 1}": {"$exists": False}},
        {"$push": {"notes": note.model_dump()}, "$set": {"updated_at": now},
         "$inc": {"version": 1}},
        session=session,
    )
    return result.modified_count == 1


async def start_resolving(session: Session, dispute_id: str, resolution: dict[str, Any],
                          history: dict[str, Any], now: datetime) -> bool:
    """open → resolving with the decision, only if the dispute is still open."""
    result = await _collection().update_one(
        {"_id": dispute_id, "status": DisputeStatus.OPEN.value},
        {"$set": {"status": DisputeStatus.RESOLVING.value, "resolution": resolution,
                  "updated_at": now},
         "$push": {"status_history": history},
         "$inc": {"version": 1}},
        session=session,
    )
    return result.modified_count == 1


async def next_refund_attempt(session: Session, dispute_id: str, attempt: int, refund_id: str,
                              now: datetime) -> bool:
    """Move a resolving dispute's refund on to `attempt`, once (from the attempt before);
    False when another call moved it first."""
    result = await _collection().update_one(
        {"_id": dispute_id, "status": DisputeStatus.RESOLVING.value,
         "resolution.refund_attempt": attempt - 1},
        {"$set": {"resolution.refund_attempt": attempt, "resolution.refund_id": refund_id,
                  "updated_at": now}},
        session=session,
    )
    return result.modified_count == 1


async def complete(session: Session, dispute_id: str, outcome: dict[str, Any],
                   history: dict[str, Any], now: datetime) -> bool:
    """resolving → resolved with the money's outcome; frees the order for a new dispute."""
    result = await _collection().update_one(
        {"_id": dispute_id, "status": DisputeStatus.RESOLVING.value},
        {"$set": {"status": DisputeStatus.RESOLVED.value, "updated_at": now,
                  "resolution.resolved_at": now,
                  **{f"resolution.{name}": value for name, value in outcome.items()}},
         "$unset": {"open_key": ""},
         "$push": {"status_history": history},
         "$inc": {"version": 1}},
        session=session,
    )
    return result.modified_count == 1


async def count_open(actor: Actor) -> int:
    """Disputes not resolved yet (open, or resolving), on the `status` index."""
    if not sees_all(actor, Permission.GOVERNANCE_READ):
        return 0
    unresolved = [DisputeStatus.OPEN.value, DisputeStatus.RESOLVING.value]
    return await _collection().count_documents({"status": {"$in": unresolved}})
