"""The errors this domain raises, each an AppError subclass with its status and message."""

from app.core.errors import IllegalTransition, NotFound, RuleViolation

CHAT_CLOSED = "CHAT_CLOSED"
MEDIA_NOT_FOUND = "MEDIA_NOT_FOUND"
NOT_JOINED = "NOT_JOINED"


class ChatClosed(IllegalTransition):
    """Posting to a closed or locked chat; `data.code` is CHAT_CLOSED (REST and acks)."""

    default_message = "This chat is closed"


class IllegalChatTransition(IllegalTransition):
    default_message = "The chat cannot move to that status from its current one"


class MessageNotFound(NotFound):
    default_message = "Message not found"


class MessageAlreadyInState(IllegalTransition):
    default_message = "The message is already in that state"


class UnknownMedia(RuleViolation):
    default_message = "Some media are not uploads to this job"


class NotJoined(IllegalTransition):
    default_message = "Join the job's chat first (chat:join)"
