from app.core.errors import Conflict, Forbidden, IllegalTransition, NotFound


class UserNotFound(NotFound):
    default_message = "User not found"


class EmailTaken(Conflict):
    default_message = "An account with this email already exists"


class IllegalStatusChange(IllegalTransition):
    default_message = "This status change is not allowed"


class OwnStatusChange(Forbidden):
    default_message = "You cannot change your own status"


class AdminOnlyBySuperadmin(Forbidden):
    default_message = "Only a superadmin may change another admin"


class NotABusinessApplicant(IllegalTransition):
    default_message = "This account has no business application to review"


class SessionNotFound(NotFound):
    default_message = "Session not found"


class ProfileChangedMeanwhile(Conflict):
    default_message = "Your profile changed meanwhile; reload and retry"
