from typing import Any

from app.core.errors import Conflict, IllegalTransition, NotFound, RuleViolation


class PayoutAccountNotFound(NotFound):
    default_message = "Payout account not found"


class PayoutNotFound(NotFound):
    default_message = "Payout not found"


class RecipientNotFound(NotFound):
    default_message = "Payout recipient not found"


class IllegalAccountTransition(IllegalTransition):
    default_message = "This payout account verification change is not allowed"


class IllegalPayoutTransition(IllegalTransition):
    default_message = "This payout status change is not allowed"


class PayoutRefused(RuleViolation):
    """A business rule refuses the payout; `rule` says which, for clients to branch on."""

    default_message = "The payout is refused"

    def __init__(self, message: str, rule: str, **details: Any) -> None:
        super().__init__(message, {"ruleFlags": [rule], **details})


class NoVerifiedAccount(PayoutRefused):
    def __init__(self, message: str) -> None:
        super().__init__(message, "no_verified_payout_account")


class NothingToPayOut(PayoutRefused):
    def __init__(self, payable: int, receivable: int = 0) -> None:
        super().__init__(
            "The recipient has no payable balance to pay out", "nothing_to_pay_out",
            payable=payable, receivable=receivable,
        )


class AmountExceedsPayable(PayoutRefused):
    def __init__(self, requested: int, payable: int, receivable: int = 0) -> None:
        super().__init__(
            f"The amount ({requested} paise) exceeds the recipient's payable balance "
            f"({payable} paise)",
            "amount_exceeds_payable", requested=requested, payable=payable,
            receivable=receivable,
        )


class IdempotencyKeyReused(RuleViolation):
    default_message = "This Idempotency-Key was already used with a different request body"


class PayoutInProgress(Conflict):
    default_message = "A payout with this Idempotency-Key is still being created; retry shortly"


class ProviderError(Exception):
    """The payout provider could not be asked, or its answer is unknown (e.g. a timeout).

    The payout stays `processing`: asking again with the same idempotency key is safe."""


class ProviderRefused(ProviderError):
    """The provider refused the request and made no payout (e.g. an invalid fund account)."""
