"""The errors this domain raises, each an AppError subclass with its status and message."""

from app.core.errors import Conflict, IllegalTransition, NotFound, RuleViolation

RATING_WINDOW_CLOSED = "RATING_WINDOW_CLOSED"


class RatingNotFound(NotFound):
    default_message = "Rating not found"


class RatedRepairNotFound(NotFound):
    """No such repair, or not the caller's: answered alike, never revealing another's."""

    default_message = "Repair not found"


class RepairNotRateable(IllegalTransition):
    """The repair is not `completed` (yet): an illegal state for rating, as an order that
    cannot be disputed in its state is."""

    default_message = "Only a completed repair can be rated"


class RepairAlreadyRated(Conflict):
    default_message = "This repair has been rated already"


class RatingWindowClosed(RuleViolation):
    default_message = "The rating window of this repair has closed"


class CommentsAlreadyInState(IllegalTransition):
    default_message = "The rating's comments are already in that state"
