from app.core.errors import Forbidden, IllegalTransition, NotFound, RuleViolation


class OrderNotFound(NotFound):
    default_message = "Order not found"


class IllegalOrderTransition(IllegalTransition):
    default_message = "This action is not allowed in the order's current state"


class OrderActionForbidden(Forbidden):
    default_message = "You may not take this action on this order"


class CheckoutBlocked(RuleViolation):
    default_message = "The order breaks one or more rules"


class OrderInputInvalid(RuleViolation):
    default_message = "Validation failed"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(None, {"errors": [{"field": field, "message": message}]})
