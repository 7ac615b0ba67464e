"""The rules every use case of this domain shares: who a caller is to a job, which consent
is live, how a session ends, and what both parties are told.

The use cases live beside this module: `consents.py` (requests and answers), `imei_access.py`
(the IMEI reveal), `remote_sessions.py` (sessions and their logs); `tasks.py` holds the
timers. Other domains call the functions of this module only.
"""

from typing import Any

from app.audit import service as audit
from app.consent import repository as repo
from app.consent.exceptions import AssignedTechnicianOnly, SoftwareSkillRequired
from app.consent.models import (
    OPEN_CONSENT_STATUSES,
    Consent,
    ConsentAction,
    ConsentChange,
    ConsentScope,
    ConsentStatus,
    RemoteSession,
    RemoteSessionEvent,
    SessionAction,
    SessionStatus,
)
from app.consent.schemas import ConsentRead, ConsentTechnician, RemoteSessionRead, ScopeText
from app.consent.transitions import Party, consent_actions, consent_move, session_move
from app.core import clock
from app.core.database import Session, transaction
from app.core.permissions import SYSTEM_ACTOR, Actor
from app.realtime import events
from app.repairs import service as repairs_service
from app.repairs.models import ACTIVE_STATUSES, Repair
from app.technicians import service as technicians_service
from app.technicians.models import Skill, Technician

CONSENT_REQUESTED_EVENT = "consent:requested"
CONSENT_UPDATED_EVENT = "consent:updated"
SESSION_UPDATED_EVENT = "remote-session:updated"

SCOPE_WORDS = {
    ConsentScope.IMEI_ACCESS: "See your device's full IMEI (its 15-digit identity number), "
    "which everyone else sees masked.",
    ConsentScope.REMOTE_PORT: "Open remote sessions to your device's ports over the "
    "internet, during an online repair; every session is logged and either of you may end it.",
}


def party_of(actor: Actor, repair: Repair) -> Party | None:
    """The capacity in which `actor` takes part in the job's consents (None: not a party)."""
    if repairs_service.is_assigned_technician(actor, repair):
        return Party.TECHNICIAN
    if actor.id == repair.customer_id:
        return Party.CUSTOMER
    return None


async def technician_of(repair: Repair) -> Technician | None:
    if repair.technician_id is None:
        return None
    return await technicians_service.get_technician(repair.technician_id)


async def software_technician(actor: Actor, repair: Repair) -> Technician:
    """The calling technician, if assigned to the job and holding the software skill (403)."""
    if party_of(actor, repair) is not Party.TECHNICIAN:
        raise AssignedTechnicianOnly
    technician = await technician_of(repair)
    if technician is None or Skill.SOFTWARE not in technician.skills:
        raise SoftwareSkillRequired
    return technician


async def live_consent(repair: Repair, scope: ConsentScope) -> Consent | None:
    """A granted consent of the job covering `scope` that has not run out (use-time check),
    given to the technician now assigned: a consent never passes to a successor."""
    for consent in await repo.granted_consents(repair.id, clock.utcnow()):
        if scope in consent.scopes and consent.technician_id == repair.technician_id:
            return consent
    return None


# --- what the parties see and hear ----------------------------------------------------------

def verification_of(technician: Technician | None) -> str:
    return technician.status.value if technician is not None else "unknown"


def consent_read(consent: Consent, technician: Technician | None,
                 viewer_party: Party | None) -> ConsentRead:
    return ConsentRead(
        id=consent.id, repair_id=consent.repair_id, status=consent.status,
        technician=ConsentTechnician(
            technician_id=consent.technician_id,
            name=technician.name if technician else "",
            verification_status=verification_of(technician)),
        scopes=consent.scopes,
        scope_texts=[ScopeText(scope=s, text=SCOPE_WORDS[s]) for s in consent.scopes],
        purpose=consent.purpose, duration_minutes=consent.duration_minutes, text=consent.text,
        text_version=consent.text_version, text_sha256=consent.text_sha256,
        requested_at=consent.requested_at, expires_at=consent.expires_at,
        granted_at=consent.granted_at, granted_ip=consent.granted_ip,
        granted_user_agent=consent.granted_user_agent, decided_at=consent.decided_at,
        ended_at=consent.ended_at,
        allowed_actions=consent_actions(consent.status, viewer_party) if viewer_party else [],
    )


def wire(model: Any) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True)


async def announce_consent(consent: Consent, event: str) -> None:
    """The parties hear of the consent, each with the actions open to them: a new request
    goes to the customer, every change to both."""
    technician = await technicians_service.get_technician(consent.technician_id)
    await events.emit_to_user(consent.customer_id, event,
                              wire(consent_read(consent, technician, Party.CUSTOMER)))
    if event != CONSENT_REQUESTED_EVENT:
        await events.emit_to_user(consent.technician_user_id, event,
                                  wire(consent_read(consent, technician, Party.TECHNICIAN)))


def session_read(remote: RemoteSession) -> RemoteSessionRead:
    return RemoteSessionRead.model_validate(remote)


async def announce_session(remote: RemoteSession) -> None:
    payload = wire(session_read(remote))
    for user_id in remote.party_ids:
        await events.emit_to_user(user_id, SESSION_UPDATED_EVENT, payload)


# --- ending sessions ------------------------------------------------------------------------

async def end_session(remote: RemoteSession, action: SessionAction,
                      actor: Actor = SYSTEM_ACTOR) -> RemoteSession | None:
    """End an active session (audited, pushed to both parties); None when it had already
    ended (another ending won)."""
    move = session_move(remote.status, action)
    if move is None:
        return None
    now = clock.utcnow()
    if not await repo.end_session(None, remote, move.end_reason, actor.id, now):
        return None
    await audit.record(
        None, actor=actor, action="remote_session.ended", subject_type="remote_session",
        subject_id=remote.id, changes={"status": {"from": "active", "to": "ended"}},
        metadata={"repairId": remote.repair_id, "consentId": remote.consent_id,
                  "endReason": move.end_reason},
    )
    ended = await repo.session_of(remote.id)
    if ended is not None:
        await announce_session(ended)
    return ended


async def end_sessions_of_consent(consent_id: str) -> None:
    """Everything that depends on a consent that was revoked or ran out ends at once."""
    for session_id in await repo.active_sessions_of_consent(consent_id):
        remote = await repo.session_of(session_id)
        if remote is not None:
            await end_session(remote, SessionAction.CONSENT_ENDED)


async def expire_if_due(consent: Consent) -> bool:
    """A pending or granted consent whose time ran out becomes `expired` (audited, pushed),
    and its sessions end; False when it was not due or moved meanwhile."""
    if consent.status not in OPEN_CONSENT_STATUSES or consent.expires_at > clock.utcnow():
        return False
    move = consent_move(consent.status, ConsentAction.EXPIRE)
    if move is None:
        return False
    now = clock.utcnow()
    change = ConsentChange(from_status=consent.status, to_status=move.target,
                           action=ConsentAction.EXPIRE.value, by=SYSTEM_ACTOR.id, at=now)

    async def work(session: Session) -> bool:
        if not await repo.move_consent(session, consent, move.target, change,
                                       {"ended_at": now, "ended_by": SYSTEM_ACTOR.id}):
            return False
        await audit.record(
            session, actor=SYSTEM_ACTOR, action="consent.expired", subject_type="consent",
            subject_id=consent.id,
            changes={"status": {"from": consent.status.value, "to": move.target.value}},
            metadata={"repairId": consent.repair_id},
        )
        return True

    if not await transaction(work):
        return False
    await end_sessions_of_consent(consent.id)
    expired = await repo.consent_of(consent.id)
    if expired is not None:
        await announce_consent(expired, CONSENT_UPDATED_EVENT)
    return True


async def _job_still_open(remote: RemoteSession) -> bool:
    repair = await repairs_service.get_repair(remote.repair_id)
    return (repair is not None and repair.status in ACTIVE_STATUSES
            and repair.technician_id == remote.technician_id)


async def settle_session(remote: RemoteSession) -> RemoteSession:
    """The session as of now: an active one whose consent no longer holds, whose job finished
    or went to another technician, whose heartbeat lapsed or whose own time ran out is ended
    here, at use time, not only by the timer."""
    if remote.status is not SessionStatus.ACTIVE:
        return remote
    now = clock.utcnow()
    consent = await repo.consent_of(remote.consent_id)
    if consent is not None:
        await expire_if_due(consent)  # ends this session with it
        consent = await repo.consent_of(remote.consent_id)
    action: SessionAction | None = None
    if consent is None or consent.status is not ConsentStatus.GRANTED:
        action = SessionAction.CONSENT_ENDED
    elif not await _job_still_open(remote):
        action = SessionAction.JOB_ENDED
    elif remote.heartbeat_due_at <= now:
        action = SessionAction.TIMEOUT
    elif remote.expires_at <= now:
        action = SessionAction.EXPIRE
    if action is not None:
        await end_session(remote, action)
    return await repo.session_of(remote.id) or remote


async def job_record(repair_id: str) -> tuple[list[Consent], list[RemoteSession],
                                               dict[str, list[RemoteSessionEvent]]]:
    """A job's consents, its remote sessions and each session's event log (for the dispute
    evidence that admins assemble; the caller authorises)."""
    consents = await repo.consents_of_repair(SYSTEM_ACTOR, repair_id)
    sessions = await repo.sessions_of_repair(repair_id)
    return consents, sessions, {remote.id: await repo.events_of(remote.id) for remote in sessions}
