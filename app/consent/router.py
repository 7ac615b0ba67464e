"""HTTP only: parse the request, call the service, return the schema. No queries, no rules."""

from typing import Annotated

from fastapi import APIRouter, Header, Path

from app.auth.dependencies import CurrentActor
from app.consent import consents, imei_access, remote_sessions
from app.consent.schemas import (
    ConsentCreate,
    ConsentDecision,
    ConsentList,
    ConsentRead,
    ImeiRead,
    RemoteSessionChange,
    RemoteSessionOpened,
    RemoteSessionRead,
    SessionEventCreate,
    SessionEventRead,
    SessionLog,
    TokenStatus,
    TokenVerify,
)
from app.core.errors import responses
from app.core.schemas import Envelope, ok

router = APIRouter(prefix="/api/repairs/{repairId}", tags=["Software-repair consent"],
                   responses=responses(401))
token_router = APIRouter(prefix="/api/remote-sessions", tags=["Software-repair consent"])
RepairId = Annotated[str, Path(alias="repairId", max_length=64)]
ConsentId = Annotated[str, Path(alias="consentId", max_length=64)]
SessionId = Annotated[str, Path(alias="sessionId", max_length=64)]
SessionToken = Annotated[str, Header(alias="X-Session-Token", max_length=200)]


@router.post("/consents", status_code=201, responses=responses(403, 404, 409, 422))
async def request_consent(repair_id: RepairId, body: ConsentCreate,
                          actor: CurrentActor) -> Envelope[ConsentRead]:
    """The assigned technician asks the customer for `imei_access` (software skill only) and
    or `remote_port` (online jobs only) for `durationMinutes`; the customer gets
    `consent:requested` and a notification. One pending request per job (409)."""
    return ok(await consents.request_consent(actor, repair_id, body), "Consent requested")


@router.get("/consents", responses=responses(404))
async def list_consents(repair_id: RepairId, actor: CurrentActor) -> Envelope[ConsentList]:
    """The job's consent screens (technician, scopes in plain words, purpose, duration, the
    versioned text and its SHA-256) and their states (customer, technician, admins)."""
    return ok(ConsentList(items=await consents.list_consents(actor, repair_id)))


@router.patch("/consents/{consentId}", responses=responses(403, 404, 409, 422))
async def decide_consent(repair_id: RepairId, consent_id: ConsentId, body: ConsentDecision,
                         actor: CurrentActor) -> Envelope[ConsentRead]:
    """grant / deny (the customer, while pending); revoke (the customer or the technician,
    while granted: ends its remote sessions at once). Both get `consent:updated`."""
    consent = await consents.decide(actor, repair_id, consent_id, body.action)
    return ok(consent, f"Consent {consent.status.value}")


@router.get("/imei", responses=responses(403, 404))
async def reveal_imei(repair_id: RepairId, actor: CurrentActor) -> Envelope[ImeiRead]:
    """The full IMEI: to the assigned software technician under a granted, unexpired
    `imei_access` consent (else 403 `CONSENT_REQUIRED`), or to a compliance admin. Audited
    as `repair.imei_revealed`."""
    return ok(await imei_access.reveal_imei(actor, repair_id))


@router.post("/remote-sessions", status_code=201, responses=responses(403, 404, 409, 422))
async def open_remote_session(repair_id: RepairId,
                              actor: CurrentActor) -> Envelope[RemoteSessionOpened]:
    """Open a remote port session (online jobs only: 422 `ONLINE_ONLY`; the assigned software
    technician with a granted `remote_port` consent; one active per job). The
    `sessionToken` is shown once."""
    return ok(await remote_sessions.open_session(actor, repair_id), "Remote session opened")


@router.post("/remote-sessions/{sessionId}/events", status_code=201,
             responses=responses(403, 404, 409, 422))
async def record_session_event(repair_id: RepairId, session_id: SessionId,
                               body: SessionEventCreate, actor: CurrentActor,
                               x_session_token: SessionToken,
                               ) -> Envelope[SessionEventRead]:
    """Append an event to the session's hash-chained log (the technician's agent, with
    `X-Session-Token`); 409 `SESSION_ENDED` once the session has ended."""
    event = await remote_sessions.record_event(actor, repair_id, session_id, x_session_token,
                                               body)
    return ok(event, "Event recorded")


@router.patch("/remote-sessions/{sessionId}", responses=responses(403, 404, 409, 422))
async def end_remote_session(repair_id: RepairId, session_id: SessionId,
                             body: RemoteSessionChange,
                             actor: CurrentActor) -> Envelope[RemoteSessionRead]:
    """`{action: end}` by the technician or the customer; both get `remote-session:updated`."""
    return ok(await remote_sessions.end_by_party(actor, repair_id, session_id),
              "Remote session ended")


@router.get("/remote-sessions/{sessionId}/logs", responses=responses(404))
async def session_logs(repair_id: RepairId, session_id: SessionId,
                       actor: CurrentActor) -> Envelope[SessionLog]:
    """The session's events in order, its status, and `chainValid` (the chain recomputed)."""
    return ok(await remote_sessions.session_log(actor, repair_id, session_id))


@token_router.post("/token/verify", responses=responses(422))
async def verify_session_token(body: TokenVerify) -> Envelope[TokenStatus]:
    """For the remote-access agents (no bearer token): whether the session of this token is
    live, its id and expiry."""
    return ok(await remote_sessions.verify_token(body.session_token))
