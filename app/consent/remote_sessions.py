"""Remote port sessions: opened by the assigned software technician on an online job under a
granted `remote_port` consent, verified by the agents' session token, logged event by event
in a hash chain, and ended by either party, by the consent's end, or by silence.

Only the SHA-256 of a session token is stored; the token is shown once, at the opening.
"""

import hashlib
import secrets
from datetime import timedelta

from pymongo.errors import DuplicateKeyError

from app.audit import service as audit
from app.consent import chain, service
from app.consent import repository as repo
from app.consent.exceptions import (
    ConsentRequired,
    InvalidSessionToken,
    JobNotActive,
    NotAConsentParty,
    OnlineOnly,
    RemoteSessionNotFound,
    SessionAlreadyActive,
    SessionEnded,
)
from app.consent.models import (
    ConsentScope,
    EventType,
    RemoteSession,
    RemoteSessionEvent,
    SessionAction,
    SessionStatus,
)
from app.consent.schemas import (
    RemoteSessionOpened,
    RemoteSessionRead,
    SessionEventCreate,
    SessionEventRead,
    SessionLog,
    TokenStatus,
)
from app.consent.transitions import Party
from app.core import clock
from app.core.config import settings
from app.core.database import Session, transaction
from app.core.permissions import Actor
from app.repairs import service as repairs_service
from app.repairs.models import ACTIVE_STATUSES, RepairMode

TOKEN_BYTES = 32
APPEND_ATTEMPTS = 10  # concurrent appends: each retry takes the next place in the chain


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def heartbeat_timeout() -> timedelta:
    return timedelta(seconds=settings().consent.remote_session_heartbeat_timeout_seconds)


async def open_session(actor: Actor, repair_id: str) -> RemoteSessionOpened:
    """A new session for the job's agents; its expiresAt never passes the consent's."""
    repair = await repairs_service.visible_repair(actor, repair_id)
    if service.party_of(actor, repair) is not Party.TECHNICIAN:
        raise NotAConsentParty("Only the job's assigned technician opens remote sessions")
    if repair.mode is not RepairMode.ONLINE:
        raise OnlineOnly
    await service.software_technician(actor, repair)
    if repair.status not in ACTIVE_STATUSES:
        raise JobNotActive(repair.status.value)
    consent = await service.live_consent(repair, ConsentScope.REMOTE_PORT)
    if consent is None:
        raise ConsentRequired(ConsentScope.REMOTE_PORT.value)
    assert repair.technician_id is not None and repair.technician_user_id is not None
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = chain.stamp(clock.utcnow())

    async def work(session: Session) -> RemoteSession:
        remote = RemoteSession(
            repair_id=repair.id, consent_id=consent.id, customer_id=repair.customer_id,
            technician_id=repair.technician_id, technician_user_id=repair.technician_user_id,
            token_sha256=token_sha256(token), started_at=now, expires_at=consent.expires_at,
            last_heartbeat_at=now, heartbeat_due_at=now + heartbeat_timeout(),
            last_hash=chain.GENESIS,
        )
        try:
            await repo.insert_session(session, remote)
        except DuplicateKeyError:
            raise SessionAlreadyActive from None
        await audit.record(
            session, actor=actor, action="remote_session.opened",
            subject_type="remote_session", subject_id=remote.id,
            metadata={"repairId": repair.id, "consentId": consent.id,
                      "expiresAt": remote.expires_at.isoformat()},
        )
        return remote

    remote = await transaction(work)
    await service.announce_session(remote)
    return RemoteSessionOpened(session_id=remote.id, session_token=token,
                               expires_at=remote.expires_at)


async def verify_token(token: str) -> TokenStatus:
    """What an agent learns from its token: whether the session is live, and until when."""
    remote = await repo.session_by_token(token_sha256(token))
    if remote is None:
        return TokenStatus(live=False, session_id=None, expires_at=None)
    remote = await service.settle_session(remote)
    return TokenStatus(live=remote.status is SessionStatus.ACTIVE, session_id=remote.id,
                       expires_at=remote.expires_at)


async def _party_session(actor: Actor, repair_id: str, session_id: str,
                         ) -> tuple[RemoteSession, Party | None]:
    repair = await repairs_service.visible_repair(actor, repair_id)
    party = service.party_of(actor, repair)
    remote = await repo.visible_session(actor, repair.id, session_id)
    if remote is None or (party is None and not actor.is_admin):
        raise RemoteSessionNotFound
    return remote, party


async def record_event(actor: Actor, repair_id: str, session_id: str, token: str | None,
                       data: SessionEventCreate) -> SessionEventRead:
    """Append to the session's log (the technician's agent, with X-Session-Token)."""
    remote, party = await _party_session(actor, repair_id, session_id)
    if party is not Party.TECHNICIAN or remote.technician_user_id != actor.id:
        raise NotAConsentParty("Only the session's technician records its events")
    if token is None or not secrets.compare_digest(token_sha256(token), remote.token_sha256):
        raise InvalidSessionToken
    for _attempt in range(APPEND_ATTEMPTS):
        remote = await service.settle_session(remote)
        if remote.status is not SessionStatus.ACTIVE:
            raise SessionEnded(remote.end_reason)
        event = _next_event(remote, actor, data)
        if await _append(remote, event, data.type is EventType.HEARTBEAT):
            return SessionEventRead.of(event)
        remote = await repo.session_of(remote.id) or remote  # another event took the place
    raise SessionEnded(remote.end_reason)


async def _append(remote: RemoteSession, event: RemoteSessionEvent, heartbeat: bool) -> bool:
    due = event.at + heartbeat_timeout() if heartbeat else None

    async def work(session: Session) -> bool:
        return await repo.append_event(session, remote, event, due)

    return await transaction(work)


def _next_event(remote: RemoteSession, actor: Actor, data: SessionEventCreate,
                ) -> RemoteSessionEvent:
    at = chain.stamp(clock.utcnow())
    seq = remote.event_count + 1
    return RemoteSessionEvent(
        session_id=remote.id, seq=seq, type=data.type, detail=data.detail, at=at, by=actor.id,
        prev_hash=remote.last_hash,
        hash=chain.event_hash(remote.id, seq, data.type.value, data.detail, at, actor.id,
                              remote.last_hash),
    )


async def end_by_party(actor: Actor, repair_id: str, session_id: str) -> RemoteSessionRead:
    """The technician or the customer ends the session; an ended one is 409."""
    remote, party = await _party_session(actor, repair_id, session_id)
    if party is None:
        raise NotAConsentParty("Only the job's customer and technician end its sessions")
    remote = await service.settle_session(remote)
    if remote.status is not SessionStatus.ACTIVE:
        raise SessionEnded(remote.end_reason)
    ended = await service.end_session(remote, SessionAction.END, actor)
    if ended is None:
        fresh = await repo.session_of(remote.id)
        raise SessionEnded(fresh.end_reason if fresh else None)
    return service.session_read(ended)


async def session_log(actor: Actor, repair_id: str, session_id: str) -> SessionLog:
    """The session's events in order and whether their chain is intact."""
    remote, _ = await _party_session(actor, repair_id, session_id)
    remote = await service.settle_session(remote)
    events = await repo.events_of(remote.id)
    return SessionLog(session_id=remote.id, repair_id=remote.repair_id, status=remote.status,
                      end_reason=remote.end_reason,
                      events=[SessionEventRead.of(e) for e in events],
                      chain_valid=chain.chain_valid(remote, events))
