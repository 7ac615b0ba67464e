"""Every query on consents, remote sessions and their events.

Reads take the `Actor` and return only what it may see: the job's customer, its technician,
admins with repairs:read-all and the system (the service has already checked the job itself)."""

from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from app.consent.models import (
    OPEN_CONSENT_STATUSES,
    Consent,
    ConsentChange,
    ConsentStatus,
    RemoteSession,
    RemoteSessionEvent,
    SessionStatus,
)
from app.core.database import Session
from app.core.permissions import Actor, Permission


def _consents() -> AsyncCollection:
    return Consent.get_pymongo_collection()


def _sessions() -> AsyncCollection:
    return RemoteSession.get_pymongo_collection()


def _events() -> AsyncCollection:
    return RemoteSessionEvent.get_pymongo_collection()


def _party_filter(actor: Actor) -> dict[str, Any]:
    if actor.is_system or actor.can(Permission.REPAIRS_READ_ALL):
        return {}
    return {"$or": [{"customer_id": actor.id}, {"technician_user_id": actor.id}]}


# --- consents -------------------------------------------------------------------------------

async def insert_consent(session: Session, consent: Consent) -> None:
    """Raises DuplicateKeyError when the job has a pending request (`one_pending_per_repair`)."""
    await consent.insert(session=session)


async def consent_of(consent_id: str) -> Consent | None:
    """Any consent (system scope: jobs and use-time checks)."""
    doc = await _consents().find_one({"_id": consent_id})
    return Consent.model_validate(doc) if doc else None


async def visible_consent(actor: Actor, repair_id: str, consent_id: str) -> Consent | None:
    doc = await _consents().find_one({"_id": consent_id, "repair_id": repair_id,
                                      **_party_filter(actor)})
    return Consent.model_validate(doc) if doc else None


async def consents_of_repair(actor: Actor, repair_id: str) -> list[Consent]:
    """A job's consent requests, oldest first (a job has a handful)."""
    cursor = _consents().find({"repair_id": repair_id, **_party_filter(actor)}).sort(
        "requested_at", 1)
    return [Consent.model_validate(doc) async for doc in cursor]


async def granted_consents(repair_id: str, now: datetime) -> list[Consent]:
    """The job's granted consents that have not run out."""
    cursor = _consents().find({"repair_id": repair_id, "status": ConsentStatus.GRANTED.value,
                               "expires_at": {"$gt": now}})
    return [Consent.model_validate(doc) async for doc in cursor]


async def move_consent(session: Session | None, consent: Consent, to_status: ConsentStatus,
                       change: ConsentChange, fields: dict[str, Any]) -> bool:
    """Move the consent from the state and version it was read in (one of two concurrent
    moves wins)."""
    result = await _consents().update_one(
        {"_id": consent.id, "status": consent.status.value, "version": consent.version},
        {"$set": {"status": to_status.value, "updated_at": change.at, **fields},
         "$push": {"history": change.model_dump(mode="python")}, "$inc": {"version": 1}},
        session=session,
    )
    return result.modified_count == 1


async def consents_due(now: datetime, limit: int) -> list[str]:
    """Ids of pending or granted consents whose time ran out, oldest first."""
    cursor = _consents().find(
        {"status": {"$in": [s.value for s in OPEN_CONSENT_STATUSES]},
         "expires_at": {"$lte": now}}, {"_id": 1},
    ).sort("expires_at", 1).limit(limit)
    return [doc["_id"] async for doc in cursor]


# --- remote sessions ------------------------------------------------------------------------

async def insert_session(session: Session, remote: RemoteSession) -> None:
    """Raises DuplicateKeyError when the job has an active session (`one_active_per_repair`)."""
    await remote.insert(session=session)


async def session_of(session_id: str) -> RemoteSession | None:
    """Any session (system scope)."""
    doc = await _sessions().find_one({"_id": session_id})
    return RemoteSession.model_validate(doc) if doc else None


async def visible_session(actor: Actor, repair_id: str, session_id: str) -> RemoteSession | None:
    doc = await _sessions().find_one({"_id": session_id, "repair_id": repair_id,
                                      **_party_filter(actor)})
    return RemoteSession.model_validate(doc) if doc else None


async def session_by_token(token_sha256: str) -> RemoteSession | None:
    doc = await _sessions().find_one({"token_sha256": token_sha256})
    return RemoteSession.model_validate(doc) if doc else None


async def active_sessions_of_consent(consent_id: str) -> list[str]:
    cursor = _sessions().find({"consent_id": consent_id,
                               "status": SessionStatus.ACTIVE.value}, {"_id": 1})
    return [doc["_id"] async for doc in cursor]


async def end_session(session: Session | None, remote: RemoteSession, end_reason: str,
                      ended_by: str, now: datetime) -> bool:
    """End the session if it is still active (one of two concurrent ends wins)."""
    result = await _sessions().update_one(
        {"_id": remote.id, "status": SessionStatus.ACTIVE.value},
        {"$set": {"status": SessionStatus.ENDED.value, "live": False, "ended_at": now,
                  "end_reason": end_reason, "ended_by": ended_by},
         "$inc": {"version": 1}},
        session=session,
    )
    return result.modified_count == 1


async def sessions_due(now: datetime, limit: int) -> list[str]:
    """Ids of active sessions past their heartbeat deadline or their expiry."""
    found: list[str] = []
    for field in ("heartbeat_due_at", "expires_at"):
        cursor = _sessions().find(
            {"status": SessionStatus.ACTIVE.value, field: {"$lte": now}}, {"_id": 1},
        ).sort(field, 1).limit(limit)
        found += [doc["_id"] async for doc in cursor if doc["_id"] not in found]
    return found[:limit]


async def append_event(session: Session, remote: RemoteSession, event: RemoteSessionEvent,
                       heartbeat_due_at: datetime | None) -> bool:
    """Advance the chain head from where it was read, then store the event; False when the
    session ended or another event took this place meanwhile."""
    changes: dict[str, Any] = {"last_hash": event.hash}
    if heartbeat_due_at is not None:
        changes.update(last_heartbeat_at=event.at, heartbeat_due_at=heartbeat_due_at)
    result = await _sessions().update_one(
        {"_id": remote.id, "status": SessionStatus.ACTIVE.value,
         "event_count": remote.event_count, "last_hash": remote.last_hash},
        {"$set": changes, "$inc": {"event_count": 1, "version": 1}},
        session=session,
    )
    if result.modified_count != 1:
        return False
    await event.insert(session=session)
    return True


async def events_of(session_id: str) -> list[RemoteSessionEvent]:
    """The session's events in chain order."""
    cursor = _events().find({"session_id": session_id}).sort("seq", 1)
    return [RemoteSessionEvent.model_validate(doc) async for doc in cursor]


async def sessions_of_repair(repair_id: str) -> list[RemoteSession]:
    """Every remote session of a job, ended ones too, oldest first (the `by_repair` index)."""
    cursor = _sessions().find({"repair_id": repair_id}).sort("started_at", 1)
    return [RemoteSession.model_validate(doc) async for doc in cursor]
