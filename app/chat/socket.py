"""The chat's Socket.IO events (client → server), answered through the realtime wrapper:
its ack is `{ok: true, data}` or `{ok: false, error: {code, message}}`.

    chat:join   {jobId}                                  → the chat; the socket enters job:{jobId}
    chat:send   {jobId, text?, mediaIds?, clientMessageId} → the stored message
    chat:typing {jobId}                                  → others in the room get chat:typing
    chat:read   {jobId, messageId}                       → the room gets chat:read
"""

from typing import Any

from app.chat import service
from app.chat.exceptions import NOT_JOINED, NotJoined
from app.chat.schemas import ChatJoin, ChatReadMark, ChatSend, ChatTyping
from app.realtime.events import job_room
from app.realtime.handlers import SocketCall, socket_event


@socket_event("chat:join", ChatJoin)
async def join(call: SocketCall, payload: ChatJoin) -> dict[str, Any]:
    """Enter the job's room after the participant check (404 for anyone else)."""
    chat = await service.join(call.actor, payload.job_id)
    await call.server.enter_room(call.sid, job_room(chat.job_id))
    return chat.model_dump(mode="json", by_alias=True)


@socket_event("chat:send", ChatSend)
async def send(call: SocketCall, payload: ChatSend) -> dict[str, Any]:
    message, _ = await service.send(call.actor, payload.job_id, payload)
    return service.message_event(message)


@socket_event("chat:typing", ChatTyping)
async def typing(call: SocketCall, payload: ChatTyping) -> dict[str, Any]:
    """Only from a socket that joined the room (so no participant check per keystroke)."""
    if job_room(payload.job_id) not in call.server.rooms(call.sid):
        raise NotJoined(data={"code": NOT_JOINED, "jobId": payload.job_id})
    await service.typing(call.actor, payload.job_id, skip_sid=call.sid)
    return {"jobId": payload.job_id}


@socket_event("chat:read", ChatReadMark)
async def read(call: SocketCall, payload: ChatReadMark) -> dict[str, Any]:
    notice = await service.mark_read(call.actor, payload.job_id, payload.message_id)
    return notice.model_dump(mode="json", by_alias=True)
