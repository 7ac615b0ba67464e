from app.core.errors import IllegalTransition, NotFound

ACCOUNT_NOT_SUSPENDED = "ACCOUNT_NOT_SUSPENDED"
APPEAL_ALREADY_OPEN = "APPEAL_ALREADY_OPEN"


class AppealNotFound(NotFound):
    default_message = "Appeal not found"


class AccountNotSuspended(IllegalTransition):
    default_message = "This account is not suspended: there is nothing to appeal"

    def __init__(self, message: str | None = None, status: str | None = None) -> None:
        super().__init__(message, {"code": ACCOUNT_NOT_SUSPENDED, "accountStatus": status})


class AppealAlreadyOpen(IllegalTransition):
    default_message = "You already have an open appeal; wait for its decision"

    def __init__(self) -> None:
        super().__init__(None, {"code": APPEAL_ALREADY_OPEN})


class IllegalAppealTransition(IllegalTransition):
    default_message = "This appeal has already been decided"
