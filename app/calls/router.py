"""HTTP only: parse the request, call the service, return the schema. No queries, no rules."""

from typing import Annotated

from fastapi import APIRouter, Path

from app.auth.dependencies import CurrentActor
from app.calls import ice, service
from app.calls.schemas import CallCreate, CallLog, CallRead, CallStatusChange, IceServers
from app.core.errors import responses
from app.core.schemas import Envelope, ok

router = APIRouter(prefix="/api/calls", tags=["Calls"], responses=responses(401))
CallId = Annotated[str, Path(alias="callId", max_length=64)]


@router.post("", status_code=201, responses=responses(403, 404, 409, 422))
async def start_call(body: CallCreate, actor: CurrentActor) -> Envelope[CallRead]:
    """Call the other party of your job (customer ↔ technician, buyer ↔ dealer): the call
    rings (`call:incoming` to them) until accepted, rejected, cancelled, or missed after
    CALL_RING_TIMEOUT_SECONDS. 409 `CALL_IN_PROGRESS` while the job has a live call; 403 for
    admins (never a party); 404 for a job that is not yours."""
    call = await service.start_call(actor, body)
    return ok(CallRead.model_validate(call), "Ringing")


@router.get("/ice-servers")
async def ice_servers(actor: CurrentActor) -> Envelope[IceServers]:
    """STUN and TURN servers for RTCPeerConnection, with TURN credentials valid for
    TURN_CREDENTIAL_TTL_SECONDS (coturn REST scheme: username `expiry:userId`)."""
    return ok(ice.ice_servers(actor))


@router.patch("/{callId}/status", responses=responses(403, 404, 409, 422))
async def change_call_status(call_id: CallId, body: CallStatusChange,
                             actor: CurrentActor) -> Envelope[CallRead]:
    """accept / reject (the callee, while ringing), cancel (the caller, while ringing), end
    (either party, while active); both parties get `call:status`. Illegal moves are 409."""
    call = await service.change_status(actor, call_id, body.action)
    return ok(CallRead.model_validate(call), f"Call {call.status.value}")


@router.get("/{callId}/logs", responses=responses(404))
async def call_log(call_id: CallId, actor: CurrentActor) -> Envelope[CallLog]:
    """The call's events with their times, its participants, `duration` (seconds from accept
    to end) and `endReason` (the parties and admins)."""
    return ok(await service.call_log(actor, call_id))
