"""The fraud rules' codes, what a rule reports when it fires, and an event's assessment."""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class RiskRule(StrEnum):
    ORDER_VELOCITY = "ORDER_VELOCITY"
    FIRST_ORDER_HIGH_VALUE = "FIRST_ORDER_HIGH_VALUE"
    PAYMENT_FAILURES = "PAYMENT_FAILURES"
    REFUND_RATIO = "REFUND_RATIO"
    PRICE_FAR_BELOW_MEDIAN = "PRICE_FAR_BELOW_MEDIAN"
    PAYOUT_ACCOUNT_CHANGED = "PAYOUT_ACCOUNT_CHANGED"


class RiskEvent(StrEnum):
    """Where the rules run."""

    ORDER_PLACEMENT = "order_placement"
    PAYMENT_CAPTURE = "payment_capture"
    REFUND = "refund"
    PAYOUT = "payout"
    LISTING = "listing"


@dataclass(frozen=True)
class Flag:
    """A rule that fired, with the figures it fired on (kept in the audit entry)."""

    rule: RiskRule
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Assessment:
    event: RiskEvent
    flags: tuple[Flag, ...]
    score: int
    threshold: int

    @property
    def codes(self) -> list[str]:
        return [flag.rule.value for flag in self.flags]

    @property
    def held(self) -> bool:
        """The score reached the threshold: the order or payout waits for an admin's review,
        the listing goes to moderation (a capture or refund cannot wait: it raises an alert)."""
        return bool(self.flags) and self.score >= self.threshold


class ReviewAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
