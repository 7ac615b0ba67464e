"""Every query on the technicians' collections (profiles, location history, spoofing flags).

Reads of profiles take the actor: an approved technician's public view is for anyone signed
in (the service shapes it); the whole profile, and any profile not approved, only to its own
technician account and admins. Other domains' services read with `SYSTEM_ACTOR`.
"""

import asyncio
import contextlib
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from app.core import clock
from app.core.database import Session
from app.core.pagination import DESCENDING, PageRequest, paginate
from app.core.permissions import Actor, Permission
from app.core.policy import Owners, may_see, sees_all
from app.core.queues import QueuePosition, Waiting, oldest_waiting
from app.technicians.models import (
    PLATFORM_STATS_ID,
    LocationRecord,
    RatingStats,
    SearchCell,
    SearchEntry,
    Skill,
    SpoofingFlag,
    StatusChange,
    Technician,
    TechnicianStatus,
)

# Every admin holds it (it also lists technicians): admins see every technician.
READ_ALL = Permission.USERS_READ
BULK_BATCH = 1000
SEARCH_CHUNK = 64


def _collection() -> AsyncCollection:
    return Technician.get_pymongo_collection()


def owners(technician: Technician) -> Owners:
    return Owners(technician_id=technician.id)


def sees_private(actor: Actor | None, technician: Technician) -> bool:
    """Its own technician account and admins: the whole profile, whatever its status."""
    return may_see(actor, owners(technician), READ_ALL)


async def get_visible(actor: Actor | None, technician_id: str) -> Technician | None:
    """Approved technicians to anyone; others only to their owner and admins."""
    technician = await Technician.get(technician_id)
    if technician is None:
        return None
    if technician.status is TechnicianStatus.APPROVED or sees_private(actor, technician):
        return technician
    return None


async def get_private(actor: Actor | None, technician_id: str) -> Technician | None:
    """The technician, only if `actor` is its own account or an admin (or the system)."""
    technician = await Technician.get(technician_id)
    return technician if technician is not None and sees_private(actor, technician) else None


async def page(
    actor: Actor, status: TechnicianStatus | None, skill: Skill | None, page_request: PageRequest
) -> tuple[list[Technician], str | None]:
    """Newest first, optionally of one status and skill (admins see all, others only theirs)."""
    query: dict[str, Any] = {}
    if status:
        query["status"] = status.value
    if skill:
        query["skills"] = skill.value
    if not sees_all(actor, READ_ALL):
        query["_id"] = actor.technician_id or ""
    docs, next_cursor = await paginate(_collection(), query, page_request)
    return [Technician.model_validate(doc) for doc in docs], next_cursor


async def insert(session: Session, technician: Technician) -> None:
    await technician.insert(session=session)


async def insert_many(technicians: list[Technician], entries: list[SearchEntry | None]) -> None:
    """Bulk load (tests and the benchmark seed many technicians at once): the technicians
    and, for each findable one, its entry in the search cells (`entries[i]` is technician
    i's, or None). Inserted 1,000 at a time: one long command keeps the embedded server
    from answering the client's heartbeats, and the client then drops its connections."""
    for start in range(0, len(technicians), BULK_BATCH):
        await Technician.insert_many(technicians[start:start + BULK_BATCH])
    by_cell: dict[str, list[SearchEntry]] = {}
    for technician, entry in zip(technicians, entries, strict=True):
        if entry is not None and technician.search_cell:
            by_cell.setdefault(technician.search_cell, []).append(entry)
    for cell, cell_entries in by_cell.items():
        await _search_cells().update_one(
            {"_id": cell},
            {"$push": {"entries": {"$each": [e.model_dump() for e in cell_entries]}},
             "$addToSet": {"coarse_cells": {"$each": sorted({e.coarse_cell for e in cell_entries})}}},
            upsert=True,
        )


async def change_status(session: Session, technician: Technician, entry: StatusChange,
                        extra: dict[str, Any]) -> bool:
    """Move to `entry.to_status` only if still at the status and version read."""
    result = await _collection().update_one(
        {"_id": technician.id, "status": technician.status.value, "version": technician.version},
        {"$set": {"status": entry.to_status.value, "updated_at": clock.utcnow(), **extra},
         "$push": {"status_history": entry.model_dump(mode="python")},
         "$inc": {"version": 1}},
        session=session,
    )
    return result.modified_count == 1


async def update_if_version(
    session: Session | None, technician: Technician, changes: dict[str, Any]
) -> bool:
    """Set `changes` only if the technician is still at the version read (one writer wins)."""
    result = await _collection().update_one(
        {"_id": technician.id, "version": technician.version},
        {"$set": {**changes, "updated_at": clock.utcnow()}, "$inc": {"version": 1}},
        session=session,
    )
    return result.modified_count == 1


async def force_update(
    session: Session, technician_id: str, changes: dict[str, Any]
) -> str | None:
    """Set `changes` whatever the version (it moves on, so a concurrent guarded write loses);
    returns the search cell the technician was in just before."""
    before = await _collection().find_one_and_update(
        {"_id": technician_id},
        {"$set": {**changes, "updated_at": clock.utcnow()}, "$inc": {"version": 1}},
        projection={"search_cell": 1}, session=session,
    )
    return before.get("search_cell") if before else None


async def rename(session: Session, technician_id: str, name: str) -> Technician | None:
    """Show the account's new name on its profile (the version moves on, so a concurrent
    guarded write, which may move the search entry, reloads and keeps the name)."""
    doc = await _collection().find_one_and_update(
        {"_id": technician_id},
        {"$set": {"name": name, "updated_at": clock.utcnow()}, "$inc": {"version": 1}},
        return_document=ReturnDocument.AFTER, session=session,
    )
    return Technician.model_validate(doc) if doc else None


async def add_location(session: Session, record: LocationRecord) -> None:
    await record.insert(session=session)


async def location_page(
    technician_id: str, since: datetime | None, until: datetime | None, page_request: PageRequest
) -> tuple[list[LocationRecord], str | None]:
    """Accepted fixes of one technician (the caller checked who may see them), newest first."""
    query: dict[str, Any] = {"technician_id": technician_id}
    window = {op: bound for op, bound in (("$gte", since), ("$lte", until)) if bound is not None}
    if window:
        query["recorded_at"] = window
    docs, next_cursor = await paginate(
        LocationRecord.get_pymongo_collection(), query, page_request,
        sort_field="recorded_at", direction=DESCENDING,
    )
    return [LocationRecord.model_validate(doc) for doc in docs], next_cursor


async def add_spoofing_flag(session: Session, flag: SpoofingFlag) -> None:
    await flag.insert(session=session)


async def spoofing_flags_since(session: Session, technician_id: str, since: datetime) -> int:
    return await SpoofingFlag.get_pymongo_collection().count_documents(
        {"technician_id": technician_id, "at": {"$gt": since}}, session=session
    )


async def spoofing_flags(technician_id: str) -> list[SpoofingFlag]:
    docs = await SpoofingFlag.get_pymongo_collection().find(
        {"technician_id": technician_id}).sort([("at", DESCENDING)]).to_list()
    return [SpoofingFlag.model_validate(doc) for doc in docs]


# --- ratings: the technician's figures and the platform's (the Bayesian prior) ----------


def _rating_stats() -> AsyncCollection:
    return RatingStats.get_pymongo_collection()


async def rating_stats() -> tuple[int, int]:
    """(count, sum) of every rating on the platform."""
    doc = await _rating_stats().find_one({"_id": PLATFORM_STATS_ID})
    return (doc["rating_count"], doc["rating_sum"]) if doc else (0, 0)


async def ensure_rating_stats() -> None:
    """Create the platform's stats document if missing, outside any transaction: an upsert
    inside one would turn two first ratings' race into a duplicate key, not a retry."""
    # DuplicateKeyError: created meanwhile by another request, which is what we wanted.
    with contextlib.suppress(DuplicateKeyError):
        await _rating_stats().update_one(
            {"_id": PLATFORM_STATS_ID}, {"$setOnInsert": {"rating_count": 0, "rating_sum": 0}}, upsert=True)


async def count_platform_rating(session: Session, score: int) -> tuple[int, int]:
    """Add one rating of `score` to the platform's stats; (count, sum) after it."""
    doc = await _rating_stats().find_one_and_update(
        {"_id": PLATFORM_STATS_ID}, {"$inc": {"rating_count": 1, "rating_sum": score}},
        return_document=ReturnDocument.AFTER, session=session,
    )
    if doc is None:
        raise RuntimeError("the platform rating stats document is missing")
    return doc["rating_count"], doc["rating_sum"]


async def count_rating(session: Session, technician_id: str, score: int) -> Technician | None:
    """Add one rating of `score` to the technician's count, sum and distribution (moving its
    version on, so a concurrent guarded write built on the old figures is refused); the
    technician after it, or None if there is no such technician."""
    doc = await _collection().find_one_and_update(
        {"_id": technician_id},
        {"$inc": {"rating_count": 1, "rating_sum": score, f"rating_distribution.{score}": 1,
                  "version": 1},
         "$set": {"updated_at": clock.utcnow()}},
        return_document=ReturnDocument.AFTER, session=session,
    )
    return Technician.model_validate(doc) if doc else None


async def set_rating_average(session: Session, technician_id: str, average: float,
                             low: bool) -> None:
    """Store the average of the figures just counted (in the same transaction); a technician
    no longer low-rated starts a new low spell the next time (its alert flag cleared)."""
    changes: dict[str, Any] = {"rating_average": average}
    if not low:
        changes["low_rating_alerted"] = False
    await _collection().update_one({"_id": technician_id}, {"$set": changes}, session=session)


async def mark_low_rating_alerted(technician_id: str) -> bool:
    """Note that the current low spell's alert was raised; False if it was noted already."""
    result = await _collection().update_one(
        {"_id": technician_id, "low_rating_alerted": {"$ne": True}},
        {"$set": {"low_rating_alerted": True}},
    )
    return result.modified_count == 1


async def count_completed_job(session: Session, technician_id: str) -> None:
    """One more job completed (the repair's completing transaction); no version bump: no
    guarded write of the profile competes with a counter."""
    await _collection().update_one({"_id": technician_id}, {"$inc": {"jobs_completed": 1}},
                                   session=session)


# --- the search cells (the nearby search's read model) ----------------------------------


def _search_cells() -> AsyncCollection:
    return SearchCell.get_pymongo_collection()


async def move_search_entry(
    session: Session, technician_id: str, old_cell: str | None, new_cell: str | None,
    entry: SearchEntry | None,
) -> None:
    """Take the technician's entry out of `old_cell` and put `entry` into `new_cell` (either
    may be None), in the transaction that changes the technician."""
    if old_cell:
        await _search_cells().update_one(
            {"_id": old_cell}, {"$pull": {"entries": {"id": technician_id}}}, session=session
        )
    if new_cell and entry is not None:
        await _search_cells().update_one(
            {"_id": new_cell},
            {"$push": {"entries": entry.model_dump()},
             "$addToSet": {"coarse_cells": entry.coarse_cell}},
            upsert=True, session=session,
        )


async def _cells_where(field: str, cells: list[str]) -> list[dict[str, Any]]:
    """The search-cell documents whose `field` is one of `cells`, asked for in chunks sent
    at once: the embedded server checks every document it reads against the whole `$in`
    list, so one long list costs documents × cells, and chunks keep that near linear."""
    chunks = [cells[i:i + SEARCH_CHUNK] for i in range(0, len(cells), SEARCH_CHUNK)]
    answers = await asyncio.gather(*(
        _search_cells().find({field: {"$in": chunk}}, {"entries": 1}).to_list()
        for chunk in chunks))
    return [doc for docs in answers for doc in docs]


async def search_entries(cells: list[str]) -> list[dict[str, Any]]:
    """The entries of the findable technicians whose fix lies in one of these cells."""
    return [entry for doc in await _cells_where("_id", cells) for entry in doc["entries"]]


async def search_entries_coarse(coarse_cells: list[str]) -> list[dict[str, Any]]:
    """The entries whose fix lies in one of these coarse cells (read once each)."""
    wanted = set(coarse_cells)
    seen: set[str] = set()
    entries = []
    for doc in await _cells_where("coarse_cells", coarse_cells):
        if doc["_id"] in seen:
            continue
        seen.add(doc["_id"])
        entries.extend(e for e in doc["entries"] if e["coarse_cell"] in wanted)
    return entries


async def tiers_in_use(tiers: list[str]) -> set[str]:
    """System scope: which of `tiers` some technician is on (a profile stored before tiers
    existed is on the default tier)."""
    found = set(await Technician.get_pymongo_collection().distinct(
        "commission_tier", {"commission_tier": {"$in": tiers}}))
    if "standard" in tiers and await Technician.get_pymongo_collection().find_one(
            {"commission_tier": None}, {"_id": 1}) is not None:
        found.add("standard")
    return found


async def set_commission_tier(session: Session, technician_id: str, tier: str) -> None:
    await Technician.get_pymongo_collection().update_one(
        {"_id": technician_id},
        {"$set": {"commission_tier": tier, "updated_at": clock.utcnow()}, "$inc": {"version": 1}},
        session=session,
    )


async def awaiting_approval(
    actor: Actor, after: QueuePosition | None, limit: int
) -> list[Waiting]:
    """Technicians pending approval, oldest submission first (the `by_status` index)."""
    if not sees_all(actor, Permission.GOVERNANCE_READ):
        return []
    return await oldest_waiting(_collection(), {"status": TechnicianStatus.PENDING.value},
                                "created_at", after, limit)


async def count_awaiting_approval(actor: Actor) -> int:
    if not sees_all(actor, Permission.GOVERNANCE_READ):
        return 0
    return await _collection().count_documents({"status": TechnicianStatus.PENDING.value})
