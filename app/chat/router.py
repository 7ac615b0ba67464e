"""HTTP only: parse the request, call the service, return the schema. No queries, no rules."""

from typing import Annotated

from fastapi import APIRouter, Path, Response

from app.auth.dependencies import CurrentActor, require
from app.chat import lifecycle, service
from app.chat.schemas import (
    ChatHistory,
    ChatRead,
    ChatStatusChange,
    MessageCreate,
    MessageModerated,
    MessageModeration,
    MessageRead,
)
from app.core.errors import responses
from app.core.pagination import Pagination
from app.core.permissions import Permission
from app.core.schemas import Envelope, ok

router = APIRouter(prefix="/api/chat", tags=["Chat"], responses=responses(401, 404))
ChatModerator = require(Permission.CHAT_MODERATE)
JobIdPath = Annotated[str, Path(alias="jobId", max_length=64)]
MessageIdPath = Annotated[str, Path(alias="messageId", max_length=64)]


@router.post("/{jobId}/messages", status_code=201, responses=responses(409, 422))
async def post_message(job_id: JobIdPath, body: MessageCreate, actor: CurrentActor,
                       response: Response) -> Envelope[MessageRead]:
    """Post to a job's chat (its parties and admins): text of 1–4,000 characters and/or media
    of this job. Stored, then sent to the job's room as `chat:message`. A retry with the same
    clientMessageId returns the first message (200) instead of a second one. 409
    `CHAT_CLOSED` when the chat is closed or locked."""
    message, created = await service.send(actor, job_id, body)
    if not created:
        response.status_code = 200
    return ok(MessageRead.of(message), "Message sent" if created else "Message already sent")


@router.get("/{jobId}/history")
async def chat_history(job_id: JobIdPath, actor: CurrentActor,
                       page: Pagination) -> Envelope[ChatHistory]:
    """The chat's status, each participant's read marker, and its messages newest first
    (cursor list), each with who has read it; hidden messages have no content."""
    return ok(await service.history(actor, job_id, page))


@router.patch("/{jobId}/status", responses=responses(403, 409, 422))
async def change_status(job_id: JobIdPath, body: ChatStatusChange,
                        actor: ChatModerator) -> Envelope[ChatRead]:
    """Open, close or lock a job's chat, with a reason (admins with ops or compliance;
    audited; the room gets `chat:status`)."""
    chat = await lifecycle.change_status(actor, job_id, body)
    return ok(ChatRead.of(chat), f"Chat {chat.status.value}")


@router.patch("/{jobId}/messages/{messageId}", responses=responses(403, 409, 422))
async def moderate_message(job_id: JobIdPath, message_id: MessageIdPath,
                           body: MessageModeration,
                           actor: ChatModerator) -> Envelope[MessageModerated]:
    """Hide a message from the participants (kept, audited with the reason), or show it
    again (admins with ops or compliance)."""
    message = await service.moderate(actor, job_id, message_id, body)
    return ok(MessageModerated.of_kept(message),
              "Message hidden" if message.hidden else "Message shown")
