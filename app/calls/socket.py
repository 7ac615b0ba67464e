"""The calls' Socket.IO events: joining a call's room, and the WebRTC signalling relay.

Client → server (each answered in its ack `{ok, data}` / `{ok: false, error}`):
`call:join {callId}`, `call:offer {callId, sdp}`, `call:answer {callId, sdp}`,
`call:ice {callId, candidate}` (null: end of candidates), `call:hangup {callId}`.
Only the call's two parties, and only while it is ringing or active, may send them; a party's
socket joins the `call:{callId}` room by `call:join` or by its first signal, and every signal
goes to that room except the sender's own sockets, with `fromUserId` added. Anyone else's
event is refused in the ack and relayed to no one.
"""

from typing import Any

from app.calls import service
from app.calls.schemas import CallRef, IceSignal, SdpSignal
from app.core.context import RequestSource, new_trace_id, reset_source, set_source
from app.realtime.events import user_room
from app.realtime.handlers import SocketCall, socket_event


def _source(call: SocketCall) -> RequestSource:
    """Where the event came from, for the audit entry of a hang-up."""
    environ = call.server.get_environ(call.sid) or {}
    client = (environ.get("asgi.scope") or {}).get("client")
    return RequestSource(ip=client[0] if client else None,
                         user_agent=environ.get("HTTP_USER_AGENT"), trace_id=new_trace_id())


async def _enter_call_room(call: SocketCall, call_id: str) -> str:
    room = service.call_room(call_id)
    await call.server.enter_room(call.sid, room)
    return room


async def _relay(call: SocketCall, call_id: str, event: str, body: dict[str, Any]) -> Any:
    live = await service.signalling_call(call.actor, call_id)
    room = await _enter_call_room(call, live.id)
    # Not back to the sender: none of its own sockets (other tabs) on this instance.
    own = [sid for sid, _ in call.server.manager.get_participants("/", user_room(call.actor.id))]
    await call.server.emit(event, {"callId": live.id, "fromUserId": call.actor.id, **body},
                           room=room, skip_sid=own)
    return {"callId": live.id, "relayed": True}


@socket_event("call:join", CallRef)
async def join_call(call: SocketCall, payload: CallRef) -> Any:
    live = await service.signalling_call(call.actor, payload.call_id)
    await _enter_call_room(call, live.id)
    return service.wire(live)


@socket_event("call:offer", SdpSignal)
async def relay_offer(call: SocketCall, payload: SdpSignal) -> Any:
    service.check_sdp(payload.sdp)
    return await _relay(call, payload.call_id, "call:offer", {"sdp": payload.sdp})


@socket_event("call:answer", SdpSignal)
async def relay_answer(call: SocketCall, payload: SdpSignal) -> Any:
    service.check_sdp(payload.sdp)
    return await _relay(call, payload.call_id, "call:answer", {"sdp": payload.sdp})


@socket_event("call:ice", IceSignal)
async def relay_ice(call: SocketCall, payload: IceSignal) -> Any:
    candidate = (payload.candidate.model_dump(by_alias=True)
                 if payload.candidate is not None else None)
    return await _relay(call, payload.call_id, "call:ice", {"candidate": candidate})


@socket_event("call:hangup", CallRef)
async def hang_up(call: SocketCall, payload: CallRef) -> Any:
    token = set_source(_source(call))
    try:
        ended = await service.hang_up(call.actor, payload.call_id)
    finally:
        reset_source(token)
    return service.wire(ended)
