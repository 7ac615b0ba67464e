"""Every query on the chats and chat_messages collections.

Who may read a chat is decided before any read here: the caller must take part in the job
(`app.jobs.service.participant_job`, which admins pass), so reads are keyed by the job id the
check returned; a message is only ever read within its job.
"""

from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from app.chat.models import Chat, ChatMessage, ChatStatus, ReadMarker
from app.core.database import Session
from app.core.pagination import DESCENDING, PageRequest, paginate


def _chats() -> AsyncCollection:
    return Chat.get_pymongo_collection()


def _messages() -> AsyncCollection:
    return ChatMessage.get_pymongo_collection()


async def get_chat(job_id: str, session: Session | None = None) -> Chat | None:
    return await Chat.get(job_id, session=session)


async def get_or_create_chat(job_id: str) -> Chat:
    """The job's chat, created open on first use (two first uses at once: one insert wins)."""
    chat = await get_chat(job_id)
    if chat is not None:
        return chat
    try:
        chat = Chat(id=job_id)
        await chat.insert()
        return chat
    except DuplicateKeyError:
        found = await get_chat(job_id)
        assert found is not None
        return found


async def set_status(session: Session, chat: Chat, target: ChatStatus, reason: str, by: str,
                     at: datetime) -> bool:
    """Move the chat from the status it was read in (one mover wins)."""
    result = await _chats().update_one(
        {"_id": chat.id, "status": chat.status.value, "version": chat.version},
        {"$set": {"status": target.value, "status_reason": reason, "status_by": by,
                  "status_changed_at": at, "updated_at": at},
         "$inc": {"version": 1}},
        session=session,
    )
    return result.modified_count == 1


async def mark_read(job_id: str, marker: ReadMarker) -> bool:
    """Move the user's read marker forward to `marker`, never back (markers are keyed by
    account id, which holds no `.` or `$`)."""
    key = f"reads.{marker.user_id}"
    result = await _chats().update_one(
        {"_id": job_id, "$or": [
            {key: {"$exists": False}},
            {f"{key}.message_at": {"$lt": marker.message_at}},
            {f"{key}.message_at": marker.message_at,
             f"{key}.message_id": {"$lt": marker.message_id}}]},
        {"$set": {key: marker.model_dump()}},
    )
    return result.modified_count == 1


async def open_chat_ids(after: str | None, limit: int) -> list[str]:
    """Open chats in id order, a batch after `after` (the auto-close job walks them)."""
    query: dict[str, Any] = {"status": ChatStatus.OPEN.value}
    if after is not None:
        query["_id"] = {"$gt": after}
    docs = await _chats().find(query, {"_id": 1}).sort("_id", 1).limit(limit).to_list()
    return [doc["_id"] for doc in docs]


async def insert_message(message: ChatMessage) -> None:
    """Raises DuplicateKeyError when the sender used this clientMessageId in the job already."""
    await message.insert()


async def message_by_client_id(job_id: str, sender_id: str,
                               client_message_id: str) -> ChatMessage | None:
    return await ChatMessage.find_one({"job_id": job_id, "sender_id": sender_id,
                                       "client_message_id": client_message_id})


async def message_in_job(job_id: str, message_id: str,
                         session: Session | None = None) -> ChatMessage | None:
    return await ChatMessage.find_one({"_id": message_id, "job_id": job_id}, session=session)


async def history(job_id: str, page: PageRequest) -> tuple[list[ChatMessage], str | None]:
    """The job's messages, newest first."""
    docs, next_cursor = await paginate(_messages(), {"job_id": job_id}, page,
                                       sort_field="created_at", direction=DESCENDING)
    return [ChatMessage.model_validate(doc) for doc in docs], next_cursor


async def set_hidden(session: Session, message: ChatMessage, hidden: bool, reason: str, by: str,
                     at: datetime) -> bool:
    """Hide or show a message, only if it is not so already (one moderator wins)."""
    result = await _messages().update_one(
        {"_id": message.id, "hidden": not hidden, "version": message.version},
        {"$set": {"hidden": hidden, "hidden_reason": reason if hidden else None,
                  "hidden_by": by if hidden else None, "hidden_at": at if hidden else None},
         "$inc": {"version": 1}},
        session=session,
    )
    return result.modified_count == 1


async def transcript(job_id: str) -> list[ChatMessage]:
    """Every message of the job, hidden ones too, oldest first (the `history` index)."""
    cursor = _messages().find({"job_id": job_id}).sort([("created_at", 1), ("_id", 1)])
    return [ChatMessage.model_validate(doc) async for doc in cursor]
