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
    default_message = "This account is suspended or blocked"
