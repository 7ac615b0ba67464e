"""A chat's status: open, closed or locked (the table: transitions.py).

Admins move it (`PATCH /api/chat/{jobId}/status`, audited with their reason); it closes by
itself CHAT_CLOSE_AFTER_DAYS after its job finished (the `chat-auto-close` job, and at once
when anyone uses a chat that is due, so the rule holds between runs of the job); opening a
dispute locks it (`lock_for_dispute`, registered with the disputes service). Every change is
a conditional update on the status it was read in, audited in the same transaction, then
announced to the job's room as `chat:status`.
"""

from datetime import timedelta

from app.audit import service as audit
from app.chat import repository
from app.chat.exceptions import CHAT_CLOSED, ChatClosed, IllegalChatTransition
from app.chat.models import Chat, ChatStatus
from app.chat.schemas import ChatRead, ChatStatusChange
from app.chat.transitions import ACTION_TO, ChatAction, Mover, accepts_messages, move_for
from app.core import clock
from app.core.config import settings
from app.core.database import Session, transaction
from app.core.permissions import SYSTEM_ACTOR, Actor
from app.jobs import service as jobs_service
from app.jobs.service import Job
from app.realtime.events import emit_to_room, job_room

AUTO_CLOSE_REASON = "The job finished {days} day(s) ago"
DISPUTE_LOCK_REASON = "A dispute of this job was opened"
LOCK_ATTEMPTS = 5


def is_due_to_close(job: Job) -> bool:
    if job.finished_at is None:
        return False
    days = settings().chat.close_after_days
    return clock.utcnow() >= job.finished_at + timedelta(days=days)


async def current_chat(job: Job) -> Chat:
    """The job's chat (created open on first use), closed first if it is due to close."""
    chat = await repository.get_or_create_chat(job.id)
    if chat.status is ChatStatus.OPEN and is_due_to_close(job):
        chat = await _auto_close(chat)
    return chat


def refuse_unless_open(chat: Chat) -> None:
    if not accepts_messages(chat.status):
        raise ChatClosed(f"This chat is {chat.status.value}: no new messages",
                         {"code": CHAT_CLOSED, "status": chat.status.value,
                          "reason": chat.status_reason})


async def _move(actor: Actor, chat: Chat, action: ChatAction, mover: Mover, reason: str) -> Chat:
    """Apply one move of the table, audited; 409 when the table has none (or a racing change
    won). Returns the chat as it now is, and tells the room."""
    move = move_for(chat.status, action, mover)
    if move is None:
        raise IllegalChatTransition(
            f"The chat is {chat.status.value}: it cannot become {ACTION_TARGETS[action]}",
            {"status": chat.status.value})
    now = clock.utcnow()

    async def work(session: Session) -> None:
        if not await repository.set_status(session, chat, move.target, reason, actor.id, now):
            raise IllegalChatTransition("The chat changed meanwhile; reload and retry",
                                        {"status": chat.status.value})
        await audit.record(
            session, actor=actor, action=f"chat.{ACTION_VERBS[action]}", subject_type="chat",
            subject_id=chat.id, reason=reason,
            changes={"status": {"from": chat.status, "to": move.target}},
        )

    await transaction(work)
    moved = await repository.get_chat(chat.id)
    assert moved is not None
    await emit_to_room(job_room(chat.id), "chat:status",
                       ChatRead.of(moved).model_dump(mode="json", by_alias=True))
    return moved


ACTION_VERBS = {ChatAction.OPEN: "reopened", ChatAction.CLOSE: "closed",
                ChatAction.LOCK: "locked"}
ACTION_TARGETS = {ChatAction.OPEN: "open", ChatAction.CLOSE: "closed",
                  ChatAction.LOCK: "locked"}


async def _auto_close(chat: Chat) -> Chat:
    reason = AUTO_CLOSE_REASON.format(days=settings().chat.close_after_days)
    try:
        return await _move(SYSTEM_ACTOR, chat, ChatAction.CLOSE, Mover.SYSTEM, reason)
    except IllegalChatTransition:
        fresh = await repository.get_chat(chat.id)  # closed or locked by someone else first
        assert fresh is not None
        return fresh


async def change_status(actor: Actor, job_id: str, change: ChatStatusChange) -> Chat:
    """An admin opens, closes or locks a job's chat, with a reason (audited)."""
    chat = await repository.get_or_create_chat(
        (await jobs_service.participant_job(actor, job_id)).id)
    return await _move(actor, chat, ACTION_TO[change.status], Mover.ADMIN, change.reason)


async def lock_for_dispute(job_id: str) -> None:
    """Disputes' hook: a dispute of the job was opened, so its chat takes no more messages.
    Already locked: nothing to do."""
    chat = await repository.get_or_create_chat(job_id)
    for _ in range(LOCK_ATTEMPTS):  # another change may win the race; read and lock again
        if chat.status is ChatStatus.LOCKED:
            return
        try:
            await _move(SYSTEM_ACTOR, chat, ChatAction.LOCK, Mover.SYSTEM, DISPUTE_LOCK_REASON)
            return
        except IllegalChatTransition:
            fresh = await repository.get_chat(job_id)
            assert fresh is not None
            chat = fresh
    raise IllegalChatTransition("The chat kept changing; it could not be locked")


async def close_if_due(job_id: str) -> bool:
    """Close the job's open chat if its job finished long enough ago (the auto-close job)."""
    job = await jobs_service.get_job(job_id)
    if job is None or not is_due_to_close(job):
        return False
    chat = await repository.get_chat(job_id)
    if chat is None or chat.status is not ChatStatus.OPEN:
        return False
    return (await _auto_close(chat)).status is ChatStatus.CLOSED
