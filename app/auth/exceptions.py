from app.core.errors import Forbidden, TooManyRequests, Unauthenticated


class InvalidCredentials(Unauthenticated):
    default_message = "Invalid email or password"


class InvalidRefreshToken(Unauthenticated):
    default_message = "Invalid or expired refresh token"


class SessionEnded(Unauthenticated):
    default_message = "This session has ended; sign in again"


class LoginThrottled(TooManyRequests):
    default_message = "Too many failed sign-ins from here; try again later"


class AccountDisabled(Forbidden):
    default_message = "This account is blocked"


ACCOUNT_SUSPENDED = "ACCOUNT_SUSPENDED"


class AccountSuspended(Forbidden):
    default_message = (
        "This account is suspended: until an admin reinstates it, it may only read its profile "
        "and notifications, and a dealer or technician may appeal (POST /api/appeals)"
    )

    def __init__(self) -> None:
        super().__init__(None, {"code": ACCOUNT_SUSPENDED})
