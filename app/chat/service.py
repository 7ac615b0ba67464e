"""Job chat: who may take part, posting (stored, then broadcast), history with read receipts,
read markers and typing notices. Status changes (admins, auto-close, dispute lock):
`lifecycle.py`.

Every participant of the job (its two parties and admins, `app.jobs.service.participant_job`)
may read and post; anyone else is told the job does not exist (404). Only an open chat takes
messages (409 `CHAT_CLOSED`). A message is stored before it is broadcast to the job's room,
and a retried send (same sender, job and clientMessageId) returns the first message, never a
second one: the unique index settles two concurrent sends.
"""

from typing import Any

from pymongo.errors import DuplicateKeyError

from app.audit import service as audit
from app.chat import lifecycle, repository
from app.chat.exceptions import (
    MEDIA_NOT_FOUND,
    MessageAlreadyInState,
    MessageNotFound,
    UnknownMedia,
)
from app.chat.models import Chat, ChatMessage, ReadMarker, stored_now
from app.chat.schemas import (
    ChatHistory,
    ChatRead,
    MessageCreate,
    MessageModeration,
    MessageRead,
    ReadNotice,
)
from app.chat.transitions import accepts_messages
from app.core import clock
from app.core.database import Session, transaction
from app.core.pagination import PageRequest
from app.core.permissions import Actor
from app.jobs import service as jobs_service
from app.media import service as media_service
from app.realtime.events import emit_to_room, job_room


def message_event(message: ChatMessage) -> dict[str, Any]:
    """The `chat:message` payload (also what acks and REST return for a new message)."""
    return MessageRead.of(message).model_dump(mode="json", by_alias=True)


async def join(actor: Actor, job_id: str) -> ChatRead:
    """The chat of a job the actor takes part in (404 otherwise), created on first use."""
    chat = await lifecycle.current_chat(await jobs_service.participant_job(actor, job_id))
    return ChatRead.of(chat)


async def send(actor: Actor, job_id: str, data: MessageCreate) -> tuple[ChatMessage, bool]:
    """Post a message (stored, then broadcast to `job:{jobId}`); a retry returns the first
    message. Returns (message, whether it is new)."""
    job = await jobs_service.participant_job(actor, job_id)
    chat = await lifecycle.current_chat(job)
    if not accepts_messages(chat.status):
        # A retry of a message stored before the chat closed still gets that message.
        first = await repository.message_by_client_id(job.id, actor.id, data.client_message_id)
        if first is not None:
            return first, False
        lifecycle.refuse_unless_open(chat)
    if data.media_ids and not await media_service.media_belongs_to(job.id, list(data.media_ids)):
        raise UnknownMedia(data={
            "code": MEDIA_NOT_FOUND,
            "errors": [{"field": "body.mediaIds",
                        "message": "every id must name media uploaded to this job"}]})
    message = ChatMessage(job_id=job.id, sender_id=actor.id, sender_role=actor.role.value,
                          text=data.text, media_ids=list(data.media_ids),
                          client_message_id=data.client_message_id)
    try:
        await repository.insert_message(message)
    except DuplicateKeyError:
        first = await repository.message_by_client_id(job.id, actor.id, data.client_message_id)
        assert first is not None
        return first, False
    await emit_to_room(job_room(job.id), "chat:message", message_event(message))
    return message, True


async def history(actor: Actor, job_id: str, page: PageRequest) -> ChatHistory:
    """The chat's status, everyone's read markers and its messages newest first (hidden
    ones without their content), each with who has read it."""
    chat = await lifecycle.current_chat(await jobs_service.participant_job(actor, job_id))
    messages, next_cursor = await repository.history(chat.id, page)
    shown = ChatRead.of(chat)
    return ChatHistory(**shown.model_dump(), items=[MessageRead.of(m, chat.reads) for m in messages],
                       next_cursor=next_cursor)


async def mark_read(actor: Actor, job_id: str, message_id: str) -> ReadNotice:
    """The actor has read the job's messages up to `message_id`; the room is told (`chat:read`)
    when the marker moved forward. An older message than the marker changes nothing."""
    job = await jobs_service.participant_job(actor, job_id)
    message = await repository.message_in_job(job.id, message_id)
    if message is None:
        raise MessageNotFound
    await lifecycle.current_chat(job)
    marker = ReadMarker(user_id=actor.id, message_id=message.id, message_at=message.created_at,
                        read_at=stored_now())
    notice = ReadNotice(job_id=job.id, user_id=actor.id, message_id=message.id,
                        read_at=marker.read_at)
    if await repository.mark_read(job.id, marker):
        await emit_to_room(job_room(job.id), "chat:read",
                           notice.model_dump(mode="json", by_alias=True))
    return notice


async def typing(actor: Actor, job_id: str, skip_sid: str | None = None) -> None:
    """Tell the room's other clients the actor is typing (nothing is stored)."""
    await emit_to_room(job_room(job_id), "chat:typing", {"jobId": job_id, "userId": actor.id},
                       skip_sid=skip_sid)


async def moderate(actor: Actor, job_id: str, message_id: str,
                   change: MessageModeration) -> ChatMessage:
    """An admin hides a message from the participants (kept, audited with the reason) or
    shows it again; the room gets the message as it now reads (`chat:message`, same id)."""
    job = await jobs_service.participant_job(actor, job_id)
    message = await repository.message_in_job(job.id, message_id)
    if message is None:
        raise MessageNotFound
    if message.hidden is change.hidden:
        raise MessageAlreadyInState(
            f"The message is already {'hidden' if message.hidden else 'shown'}",
            {"hidden": message.hidden})
    now = clock.utcnow()

    async def work(session: Session) -> None:
        if not await repository.set_hidden(session, message, change.hidden, change.reason,
                                           actor.id, now):
            raise MessageAlreadyInState("The message changed meanwhile; reload and retry")
        await audit.record(
            session, actor=actor,
            action="chat.message_hidden" if change.hidden else "chat.message_shown",
            subject_type="chat_message", subject_id=message.id, reason=change.reason,
            changes={"hidden": {"from": message.hidden, "to": change.hidden}},
            metadata={"jobId": job.id, "senderId": message.sender_id},
        )

    await transaction(work)
    moderated = await repository.message_in_job(job.id, message_id)
    assert moderated is not None
    await emit_to_room(job_room(job.id), "chat:message", message_event(moderated))
    return moderated


async def transcript(job_id: str) -> tuple[Chat | None, list[ChatMessage]]:
    """A job's chat and every message of it, hidden ones too, oldest first (for the dispute
    evidence that admins assemble; the caller authorises)."""
    return await repository.get_chat(job_id), await repository.transcript(job_id)
