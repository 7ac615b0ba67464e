"""The errors this domain raises, each an AppError subclass with its status and message."""

from app.core.errors import NotFound


class JobNotFound(NotFound):
    default_message = "Job not found"
