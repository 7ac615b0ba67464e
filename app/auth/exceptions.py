from app.core.errors import Forbidden, TooManyRequests, Unauthenticated


class InvalidCredentials(Unauthenticated):
    default_message = "Invalid email or password"


class InvalidRefreshToken(Unauthenticated):
    default_message = "Invalid or expired refresh token"


class AccountLocked(TooManyRequests):
    default_message = "Too many failed sign-ins; try again later"


class AccountDisabled(Forbidden):
    default_message = "This account is suspended or blocked"
