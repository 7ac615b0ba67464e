from app.core.errors import IllegalTransition

ON_REVIEW = "ON_REVIEW"
NOT_ON_REVIEW = "NOT_ON_REVIEW"


class HeldForReview(IllegalTransition):
    """The order (or payout) waits for an admin's fraud review: nothing moves it but that."""

    default_message = "This is on fraud review: an admin must approve it first"

    def __init__(self, message: str | None, status: str, risk_flags: list[str]) -> None:
        super().__init__(message, {"code": ON_REVIEW, "status": status, "riskFlags": risk_flags})


class NotOnReview(IllegalTransition):
    default_message = "This is not on fraud review (decided already, or never held)"

    def __init__(self, status: str) -> None:
        super().__init__(None, {"code": NOT_ON_REVIEW, "status": status})
