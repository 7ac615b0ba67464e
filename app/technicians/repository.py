"""Every query on the technicians' collections (profiles, location history, spoofing flags).

Reads of profiles take the actor: an approved technician's public view is for anyone signed
in (the service shapes it); the whole profile, and any profile not approved, only to its own
technician account and admins. Other domains' services read with `SYSTEM_ACTOR`.
"""

from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from app.core import clock
from app.core.database import Session
from app.core.pagination import DESCENDING, PageRequest, paginate
from app.core.permissions import Actor, Permission
from app.core.policy import Owners, may_see, sees_all
from app.technicians.models import (
    LocationRecord,
    Skill,
    SpoofingFlag,
    StatusChange,
    Technician,
    TechnicianStatus,
)

# Every admin holds it (it also lists technicians): admins see every technician.
READ_ALL = Permission.USERS_READ
# What the nearby search reads of each candidate.
SEARCH_FIELDS = {"_id": 1, "name": 1, "skills": 1, "last_fix.lat": 1, "last_fix.lng": 1,
                 "rating_average": 1, "rating_count": 1}


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


async def insert_many(technicians: list[Technician]) -> None:
    """Bulk load (tests and the benchmark seed many technicians at once)."""
    await Technician.insert_many(technicians)


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


async def force_update(session: Session, technician_id: str, changes: dict[str, Any]) -> None:
    """Set `changes` whatever the version (it moves on, so a concurrent guarded write loses)."""
    await _collection().update_one(
        {"_id": technician_id},
        {"$set": {**changes, "updated_at": clock.utcnow()}, "$inc": {"version": 1}},
        session=session,
    )


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


async def searchable_in_cells(
    cells: list[str], fresh_since: datetime, skill: Skill | None
) -> list[dict[str, Any]]:
    """Technicians who may be found whose current cell is one of `cells`, with a fix no
    older than `fresh_since`. `search_cell` comes first: it is the clause the index serves
    (the embedded server answers a filter from the index of one clause and checks the rest)."""
    query: dict[str, Any] = {"search_cell": {"$in": cells},
                             "last_fix.recorded_at": {"$gte": fresh_since}}
    if skill is not None:
        query["skills"] = skill.value
    return await _collection().find(query, SEARCH_FIELDS).to_list()
