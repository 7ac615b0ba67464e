"""Beanie documents of this domain, their indexes, and `DOCUMENTS` for init_beanie."""

from datetime import datetime
from enum import StrEnum

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.core import clock
from app.core.ids import new_id


def stored_now() -> datetime:
    """Now, at the millisecond precision BSON stores, so what is broadcast right after the
    insert is what a later read returns."""
    now = clock.utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class ChatStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    LOCKED = "locked"


class ReadMarker(BaseModel):
    """How far one participant has read: the newest message it has seen."""

    user_id: str
    message_id: str
    message_at: datetime
    read_at: datetime


class Chat(Document):
    """The chat of one job (`_id` is the job id: `rep_…` or `ord_…`), created lazily by the
    first join, message or history read. Its status decides whether anyone may post."""

    id: str
    status: ChatStatus = ChatStatus.OPEN
    status_reason: str | None = None
    status_by: str | None = None
    status_changed_at: datetime | None = None
    # Each participant's read marker, keyed by account id.
    reads: dict[str, ReadMarker] = Field(default_factory=dict)
    version: int = 1
    created_at: datetime = Field(default_factory=clock.utcnow)
    updated_at: datetime = Field(default_factory=clock.utcnow)

    class Settings:
        name = "chats"
        indexes = [IndexModel([("status", ASCENDING), ("_id", ASCENDING)], name="by_status")]


class ChatMessage(Document):
    """One message, never edited or deleted by users; an admin may hide it (kept here)."""

    id: str = Field(default_factory=lambda: new_id("msg"))
    job_id: str
    sender_id: str
    sender_role: str
    text: str | None = None
    media_ids: list[str] = Field(default_factory=list)
    client_message_id: str
    hidden: bool = False
    hidden_reason: str | None = None
    hidden_by: str | None = None
    hidden_at: datetime | None = None
    version: int = 1
    created_at: datetime = Field(default_factory=stored_now)

    class Settings:
        name = "chat_messages"
        indexes = [
            # A retried send (same clientMessageId from the same sender) finds the first one.
            IndexModel([("job_id", ASCENDING), ("sender_id", ASCENDING),
                        ("client_message_id", ASCENDING)], unique=True, name="once_per_client_id"),
            IndexModel([("job_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                       name="history"),
        ]


DOCUMENTS: list[type] = [Chat, ChatMessage]
