"""Starting a call on a job, moving it through its states, and reading its log.

The two parties of a job call each other: customer ↔ technician for a repair, buyer ↔ dealer
for an order. Admins take part in every job (they read call logs) but are never a party: 403
when they try to call or move a call; anyone else is told the job or call does not exist
(404). A job has at most one live (ringing or active) call: the unique partial index
`one_live_call_per_job` settles two concurrent starts. Every move is a conditional update on
the call's current state in the transaction of its audit entry; both parties hear of it
(`call:status` in their `user:` rooms) after the commit.
"""

from datetime import timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from app.audit import service as audit
from app.calls import repository
from app.calls.exceptions import (
    CALL_IN_PROGRESS,
    CallInProgress,
    CallNotFound,
    CallNotLive,
    IllegalCallTransition,
    NoOneToCall,
    NotACallParty,
    SdpTooLarge,
    WrongCallParty,
)
from app.calls.models import LIVE_STATUSES, Call, CallAction, CallEvent, CallStatus
from app.calls.schemas import SDP_MAX_BYTES, CallCreate, CallLog, CallRead, PartyAction
from app.calls.transitions import allowed_actions, hangup_action, may_make, move_for
from app.core import clock
from app.core.config import settings
from app.core.database import Session, transaction
from app.core.permissions import SYSTEM_ACTOR, Actor
from app.jobs import service as jobs_service
from app.notifications import notices
from app.realtime import events

INCOMING_EVENT = "call:incoming"
STATUS_EVENT = "call:status"


def call_room(call_id: str) -> str:
    return f"call:{call_id}"


def wire(call: Call) -> dict[str, Any]:
    """The call as clients see it, in events as in responses."""
    return CallRead.model_validate(call).model_dump(mode="json", by_alias=True)


async def start_call(actor: Actor, data: CallCreate) -> Call:
    """Ring the other party of the caller's job; 409 while the job has a live call."""
    job = await jobs_service.participant_job(actor, data.job_id)
    if not job.is_party(actor):
        raise NotACallParty
    callee_id = job.other_party(actor)
    if callee_id is None:
        raise NoOneToCall(data={"jobId": job.id})
    now = clock.utcnow()
    ring_expires_at = now + timedelta(seconds=settings().calls.ring_timeout_seconds)

    async def work(session: Session) -> Call:
        # A fresh document each attempt: the callback may run again after a write conflict.
        call = Call(job_id=job.id, job_kind=job.kind.value, type=data.type, caller_id=actor.id,
                    callee_id=callee_id, ring_expires_at=ring_expires_at, created_at=now,
                    updated_at=now, events=[CallEvent(event="started", at=now, by=actor.id,
                                                      to_status=CallStatus.RINGING)])
        try:
            await repository.insert(session, call)
        except DuplicateKeyError:
            raise CallInProgress(data={"code": CALL_IN_PROGRESS, "jobId": job.id}) from None
        await audit.record(
            session, actor=actor, action="call.started", subject_type="call",
            subject_id=call.id,
            metadata={"jobId": job.id, "type": data.type.value, "callerId": actor.id,
                      "calleeId": callee_id},
        )
        return call

    try:
        call = await transaction(work)
    except CallInProgress as exc:
        live = await repository.live_for_job(job.id)
        if live is not None and isinstance(exc.data, dict):
            exc.data["callId"] = live.id if actor.id in live.party_ids else None
        raise
    await events.emit_to_user(callee_id, INCOMING_EVENT, wire(call))
    return call


async def visible_call(actor: Actor, call_id: str) -> Call:
    call = await repository.get_visible(actor, call_id)
    if call is None:
        raise CallNotFound
    return call


async def party_call(actor: Actor, call_id: str) -> Call:
    """The call if `actor` is one of its parties (admins: 403; anyone else: 404)."""
    call = await visible_call(actor, call_id)
    if actor.id not in call.party_ids:
        raise NotACallParty
    return call


async def change_status(actor: Actor, call_id: str, action: PartyAction) -> Call:
    """Accept, reject, cancel or end a call, as the transition table allows."""
    call = await party_call(actor, call_id)
    return await _move(actor, call, CallAction(action.value), via="api")


async def hang_up(actor: Actor, call_id: str) -> Call:
    """A party's `call:hangup`: ends an active call; cancels (caller) or rejects (callee) a
    ringing one."""
    call = await party_call(actor, call_id)
    if call.status not in LIVE_STATUSES:
        raise CallNotLive(f"The call is already {call.status.value}", call.status.value)
    return await _move(actor, call, hangup_action(call.status, actor.id, call.caller_id),
                       via="socket")


async def miss_if_unanswered(call_id: str) -> bool:
    """The ring timeout: a call still ringing past `ring_expires_at` becomes `missed`."""
    call = await repository.get(call_id)
    if call is None or call.status is not CallStatus.RINGING:
        return False
    if call.ring_expires_at > clock.utcnow():
        return False
    try:
        await _move(SYSTEM_ACTOR, call, CallAction.MISS, via="system")
    except IllegalCallTransition:
        return False  # answered or cancelled meanwhile
    return True


async def call_log(actor: Actor, call_id: str) -> CallLog:
    """Every event of the call, its parties, duration and end reason (parties and admins)."""
    call = await visible_call(actor, call_id)
    return CallLog.of(call, actor.id)


async def _move(actor: Actor, call: Call, action: CallAction, via: str) -> Call:
    move = move_for(call.status, action)
    if move is None:
        raise IllegalCallTransition(
            f"A {call.status.value} call cannot take `{action.value}`",
            {"status": call.status.value, "action": action.value,
             "allowedActions": allowed_actions(call.status)},
        )
    if not actor.is_system and not may_make(move, actor.id, call.caller_id, call.callee_id):
        raise WrongCallParty(
            f"Only the {move.by.value} of the call may {action.value} it",
            {"status": call.status.value, "action": action.value, "allowedBy": move.by.value},
        )
    now = clock.utcnow()
    event = CallEvent(event=move.event, at=now, by=actor.id, from_status=call.status,
                      to_status=move.target, via=via)

    async def work(session: Session) -> None:
        if not await repository.move(session, call, move.target, event, move.end_reason):
            raise IllegalCallTransition(
                "The call changed meanwhile; reload it",
                {"status": call.status.value, "action": action.value},
            )
        await audit.record(
            session, actor=actor, action=f"call.{move.event}", subject_type="call",
            subject_id=call.id,
            changes={"status": {"from": call.status.value, "to": move.target.value}},
            metadata={"jobId": call.job_id, "via": via, "endReason": move.end_reason,
                      "callerId": call.caller_id, "calleeId": call.callee_id},
        )
        if move.target is CallStatus.MISSED:
            await notices.call_missed(session, call_id=call.id, job_id=call.job_id,
                                      caller_id=call.caller_id, callee_id=call.callee_id)

    await transaction(work)
    moved = await repository.get(call.id)
    if moved is None:
        raise CallNotFound
    await _announce(moved)
    return moved


async def _announce(call: Call) -> None:
    """Both parties hear of the move; a call that ended closes its signalling room."""
    payload = wire(call)
    for user_id in call.party_ids:
        await events.emit_to_user(user_id, STATUS_EVENT, payload)
    if call.status not in LIVE_STATUSES:
        await events.close_room(call_room(call.id))


async def signalling_call(actor: Actor, call_id: str) -> Call:
    """The call a party may signal over: one of its two parties, while ringing or active."""
    call = await party_call(actor, call_id)
    if call.status not in LIVE_STATUSES:
        raise CallNotLive(f"The call is {call.status.value}; signalling is closed",
                          call.status.value)
    return call


def check_sdp(sdp: str) -> None:
    if len(sdp.encode()) > SDP_MAX_BYTES:
        raise SdpTooLarge(SDP_MAX_BYTES)


async def calls_of_job(job_id: str) -> list[Call]:
    """Every call of a job with its log, oldest first (for the dispute evidence that admins
    assemble; the caller authorises)."""
    return await repository.of_job(job_id)
