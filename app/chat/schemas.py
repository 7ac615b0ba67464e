"""Request and response models of the chat API and of its Socket.IO events."""

from datetime import datetime
from typing import Annotated, Self

from pydantic import Field, model_validator

from app.chat.models import Chat, ChatMessage, ChatStatus, ReadMarker
from app.core.schemas import APIModel, UtcDatetime
from app.core.validators import Reason

TEXT_MAX = 4000
MEDIA_MAX = 10
JobId = Annotated[str, Field(min_length=5, max_length=64, pattern=r"^(rep|ord)_[A-Za-z0-9]+$")]
MessageId = Annotated[str, Field(min_length=5, max_length=64, pattern=r"^msg_[A-Za-z0-9]+$")]
MediaId = Annotated[str, Field(min_length=5, max_length=64, pattern=r"^med_[A-Za-z0-9]+$")]
ClientMessageId = Annotated[str, Field(
    min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$",
    description="Chosen by the client, unique per sender and job: a retry with the same id "
    "returns the first message instead of posting it twice")]


class MessageCreate(APIModel):
    """A message: text (1–4,000 characters), media of this job, or both."""

    text: str | None = Field(default=None, min_length=1, max_length=TEXT_MAX)
    media_ids: list[MediaId] = Field(default_factory=list, max_length=MEDIA_MAX,
                                     description="ids of media uploaded to this job (med_…)")
    client_message_id: ClientMessageId

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.text is None and not self.media_ids:
            raise ValueError("a message needs text or media")
        if len(set(self.media_ids)) != len(self.media_ids):
            raise ValueError("mediaIds repeat an id")
        return self


class ChatJoin(APIModel):
    job_id: JobId


class ChatSend(MessageCreate):
    job_id: JobId


class ChatTyping(APIModel):
    job_id: JobId


class ChatReadMark(APIModel):
    job_id: JobId
    message_id: MessageId


class ChatStatusChange(APIModel):
    status: ChatStatus
    reason: Reason


class MessageModeration(APIModel):
    hidden: bool = Field(description="true hides the message from the participants (kept); "
                         "false shows it again")
    reason: Reason


class ReadRead(APIModel):
    user_id: str
    message_id: str
    read_at: UtcDatetime


class MessageRead(APIModel):
    """A message as the participants see it: a hidden one has no text and no media."""

    id: str
    job_id: str
    sender_id: str
    sender_role: str
    text: str | None
    media_ids: list[str]
    client_message_id: str
    hidden: bool
    created_at: UtcDatetime
    read_by: list[str] = Field(default_factory=list,
                               description="participants (other than the sender) who have "
                               "read up to this message or past it")

    @classmethod
    def of(cls, message: ChatMessage, reads: dict[str, ReadMarker] | None = None) -> "MessageRead":
        shown = cls.model_validate(message)
        if message.hidden:
            shown.text, shown.media_ids = None, []
        shown.read_by = [r.user_id for r in (reads or {}).values()
                         if r.user_id != message.sender_id and _read_past(r, message)]
        return shown


def _read_past(marker: ReadMarker, message: ChatMessage) -> bool:
    return (marker.message_at, marker.message_id) >= (message.created_at, message.id)


class MessageModerated(MessageRead):
    """What moderators see: the kept content and why it was hidden."""

    hidden_reason: str | None
    hidden_by: str | None
    hidden_at: UtcDatetime | None

    @classmethod
    def of_kept(cls, message: ChatMessage) -> "MessageModerated":
        return cls.model_validate(message)


class ChatRead(APIModel):
    job_id: str
    status: ChatStatus
    status_reason: str | None
    status_changed_at: UtcDatetime | None
    reads: list[ReadRead]

    @classmethod
    def of(cls, chat: Chat) -> "ChatRead":
        return cls(job_id=chat.id, status=chat.status, status_reason=chat.status_reason,
                   status_changed_at=chat.status_changed_at,
                   reads=[ReadRead(user_id=r.user_id, message_id=r.message_id, read_at=r.read_at)
                          for r in chat.reads.values()])


class ChatHistory(ChatRead):
    items: list[MessageRead] = Field(description="newest first")
    next_cursor: str | None = None


class ReadNotice(APIModel):
    job_id: str
    user_id: str
    message_id: str
    read_at: datetime
