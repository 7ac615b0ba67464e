from app.core.errors import Forbidden, IllegalTransition, NotFound, RuleViolation


class DisputeNotFound(NotFound):
    default_message = "Dispute not found"


class DisputedOrderNotFound(NotFound):
    default_message = "Order not found"


class DisputedRepairNotFound(NotFound):
    default_message = "Repair job not found"


class RepairNotDisputable(IllegalTransition):
    default_message = "This repair job cannot be disputed in its current state"


class DisputeAlreadyOpen(IllegalTransition):
    default_message = "This order already has an open dispute"


class IllegalDisputeTransition(IllegalTransition):
    default_message = "This action is not allowed in the dispute's current state"


class DisputeActionForbidden(Forbidden):
    default_message = "You may not take this action on this dispute"


class OrderNotDisputable(IllegalTransition):
    default_message = "This order cannot be disputed in its current state"


class DisputeWindowClosed(RuleViolation):
    default_message = "The dispute window for this order has closed"


class DisputeAmountInvalid(RuleViolation):
    default_message = "The amounts do not fit what the escrow holds"

    def __init__(self, message: str, held: int, requested: int | None) -> None:
        super().__init__(message, {
            "errors": [{"field": "body.buyerAmount", "message": message}],
            "held": held, "requested": requested,
        })


class TooManyNotes(RuleViolation):
    default_message = "This dispute has reached the maximum number of notes"
