"""The errors this domain raises, each an AppError subclass with its status and message."""

from app.core.errors import Conflict, Forbidden, IllegalTransition, NotFound, RuleViolation


class DealerNotFound(NotFound):
    default_message = "Dealer not found"


class DealerProfileExists(Conflict):
    default_message = "This account already has a dealer profile"


class GstinTaken(Conflict):
    default_message = "A dealer with this GSTIN is already registered"


class IllegalDealerTransition(IllegalTransition):
    default_message = "This dealer status change is not allowed"


class DealerNotApproved(Forbidden):
    default_message = "Your dealer profile is not approved"


class UnknownCommissionTier(RuleViolation):
    default_message = "Unknown commission tier"
