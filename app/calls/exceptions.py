"""The errors this domain raises, each an AppError subclass with its status and message."""

from app.core.errors import AppError, Conflict, Forbidden, IllegalTransition, NotFound

CALL_IN_PROGRESS = "CALL_IN_PROGRESS"
CALL_NOT_LIVE = "CALL_NOT_LIVE"
SDP_TOO_LARGE = "SDP_TOO_LARGE"


class CallNotFound(NotFound):
    default_message = "Call not found"


class NotACallParty(Forbidden):
    """Admins take part in every job but are never a call's party."""

    default_message = "Only the two parties of a job call each other"


class WrongCallParty(Forbidden):
    default_message = "The other party of this call makes this move"


class CallInProgress(Conflict):
    default_message = "This job already has a live call"


class NoOneToCall(Conflict):
    default_message = "This job has no other party to call yet"


class IllegalCallTransition(IllegalTransition):
    default_message = "This call status change is not allowed"


class CallNotLive(Conflict):
    default_message = "This call is no longer ringing or active"

    def __init__(self, message: str | None = None, status: str | None = None) -> None:
        super().__init__(message, {"code": CALL_NOT_LIVE, "status": status})


class SdpTooLarge(AppError):
    status_code = 413
    default_message = "SDP is limited to 16 KiB"

    def __init__(self, limit: int) -> None:
        super().__init__(f"SDP is limited to {limit} bytes", {"code": SDP_TOO_LARGE})
