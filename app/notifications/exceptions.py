"""The errors this domain raises, each an AppError subclass with its status and message."""

from app.core.errors import NotFound


class NotificationNotFound(NotFound):
    """Also someone else's notification: its existence is not revealed."""

    default_message = "Notification not found"
