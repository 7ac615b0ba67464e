from app.core.errors import (
    AppError,
    BadRequest,
    Conflict,
    Forbidden,
    IllegalTransition,
    NotFound,
    RuleViolation,
)


class PaymentNotFound(NotFound):
    default_message = "Payment not found"


class AlreadyPaid(Conflict):
    default_message = "This order is already paid"


class InvalidSignature(BadRequest):
    default_message = "Payment signature verification failed"


class PaymentNotCaptured(RuleViolation):
    default_message = "The gateway has not captured this payment for the full amount"


class IllegalEscrowTransition(IllegalTransition):
    default_message = "The escrow is not in a state that allows this"


class ReleaseNeedsAnotherApprover(Conflict):
    default_message = "A second approval must come from a different finance admin"


class RefundTooLarge(RuleViolation):
    default_message = "The refund exceeds what is left to refund"


class EscrowPermissionDenied(Forbidden):
    default_message = "Releasing escrow needs the finance scope (or an ops_lead override)"


class GatewayRefused(AppError):
    status_code = 502
    default_message = "The payment gateway refused the request"


class GatewayDown(AppError):
    status_code = 503
    default_message = "The payment gateway is unavailable; retry with the same Idempotency-Key"
