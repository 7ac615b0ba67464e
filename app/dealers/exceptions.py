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


# The rule flag of every selling action refused because the dealer is suspended or blocked.
DEALER_NOT_ACTIVE = "DEALER_NOT_ACTIVE"


class DealerNotActive(Forbidden):
    default_message = "This dealer is suspended or blocked: its selling actions are stopped"

    def __init__(self, status: str) -> None:
        super().__init__(
            f"The dealer is {status}: packing, shipping, cancelling and catalogue changes are "
            "stopped until an admin reinstates it",
            {"ruleFlags": [DEALER_NOT_ACTIVE], "dealerStatus": status},
        )
