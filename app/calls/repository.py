"""Every query on the calls collection.

Reads take the `Actor` and return a call only to its two parties and to admins (who take part
in every job); anyone else gets None, which the service answers as 404.
"""

from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from app.calls.models import LIVE_STATUSES, Call, CallEvent, CallStatus
from app.core.database import Session
from app.core.permissions import Actor


def _collection() -> AsyncCollection:
    return Call.get_pymongo_collection()


def _may_see(actor: Actor, call: Call) -> bool:
    return actor.is_system or actor.is_admin or actor.id in call.party_ids


async def get_visible(actor: Actor, call_id: str) -> Call | None:
    call = await Call.get(call_id)
    return call if call is not None and _may_see(actor, call) else None


async def get(call_id: str) -> Call | None:
    """The call whoever asks (the system's jobs)."""
    return await Call.get(call_id)


async def insert(session: Session, call: Call) -> None:
    """Raises DuplicateKeyError when the job has a live call (`one_live_call_per_job`)."""
    await call.insert(session=session)


async def live_for_job(job_id: str) -> Call | None:
    return await Call.find_one({"job_id": job_id, "live": True})


async def move(session: Session, call: Call, to_status: CallStatus, event: CallEvent,
               end_reason: str | None) -> bool:
    """Move the call from the state it was read in, only if it is still in it (one of two
    concurrent moves wins)."""
    now = event.at
    changes: dict[str, Any] = {"status": to_status.value, "live": to_status in LIVE_STATUSES,
                               "updated_at": now}
    if to_status is CallStatus.ACTIVE:
        changes["answered_at"] = now
    if to_status not in LIVE_STATUSES:
        changes.update(ended_at=now, end_reason=end_reason, ended_by=event.by)
    result = await _collection().update_one(
        {"_id": call.id, "status": call.status.value, "version": call.version},
        {"$set": changes, "$push": {"events": event.model_dump(mode="python")},
         "$inc": {"version": 1}},
        session=session,
    )
    return result.modified_count == 1


async def ringing_past(now: datetime, limit: int) -> list[str]:
    """Ids of calls still ringing after their ring time ran out, oldest first."""
    cursor = _collection().find(
        {"status": CallStatus.RINGING.value, "ring_expires_at": {"$lte": now}}, {"_id": 1},
    ).sort("ring_expires_at", 1).limit(limit)
    return [doc["_id"] async for doc in cursor]


async def of_job(job_id: str) -> list[Call]:
    """Every call of a job, oldest first (the `by_job` index)."""
    cursor = _collection().find({"job_id": job_id}).sort("created_at", 1)
    return [Call.model_validate(doc) async for doc in cursor]
