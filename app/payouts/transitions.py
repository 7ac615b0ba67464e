"""The payout state machine: one table of (state, action) → (new state, who, money moved).

    (new)      ─create→  scheduled   reserve: payable:R → payout_in_transit:R
    scheduled  ─start→   processing  (the provider is called only from here)
    processing ─complete→ paid       pay:     payout_in_transit:R → payouts
    processing ─fail→    failed      return:  payout_in_transit:R → payable:R
    failed     ─retry→   scheduled   reserve again, attempt + 1
    (new)      ─hold→    on_review   reserve (the fraud checks held it)
    on_review  ─approve→ scheduled   (an ops admin's review)
    on_review  ─reject→  rejected    return:  payout_in_transit:R → payable:R

The payable account can never go negative, so two payouts can never reserve the same money.
"""

from dataclasses import dataclass
from enum import StrEnum

from app.payments.ledger import accounts as ledger_accounts
from app.payments.ledger.service import Transfer
from app.payouts.models import PayoutAction, PayoutStatus

S, A = PayoutStatus, PayoutAction


class Party(StrEnum):
    FINANCE = "finance"
    SYSTEM = "system"
    REVIEWER = "reviewer"  # an ops admin deciding a payout the fraud checks held


class LedgerStep(StrEnum):
    RESERVE = "reserve"
    PAY = "paid"
    RETURN = "returned"


@dataclass(frozen=True)
class Move:
    target: PayoutStatus
    parties: frozenset[Party]
    money: LedgerStep | None = None
    audit_action: str = ""


TRANSITIONS: dict[tuple[PayoutStatus | None, PayoutAction], Move] = {
    (None, A.CREATE): Move(S.SCHEDULED, frozenset({Party.FINANCE, Party.SYSTEM}),
                           LedgerStep.RESERVE, "payout.created"),
    (S.SCHEDULED, A.START): Move(S.PROCESSING, frozenset({Party.SYSTEM}), None,
                                 "payout.processing"),
    (S.PROCESSING, A.COMPLETE): Move(S.PAID, frozenset({Party.SYSTEM}), LedgerStep.PAY,
                                     "payout.paid"),
    (S.PROCESSING, A.FAIL): Move(S.FAILED, frozenset({Party.SYSTEM}), LedgerStep.RETURN,
                                 "payout.failed"),
    (S.FAILED, A.RETRY): Move(S.SCHEDULED, frozenset({Party.FINANCE}), LedgerStep.RESERVE,
                              "payout.retried"),
    (None, A.HOLD): Move(S.ON_REVIEW, frozenset({Party.FINANCE, Party.SYSTEM}),
                         LedgerStep.RESERVE, "payout.created"),
    (S.ON_REVIEW, A.APPROVE): Move(S.SCHEDULED, frozenset({Party.REVIEWER}), None,
                                   "payout.review_approved"),
    (S.ON_REVIEW, A.REJECT): Move(S.REJECTED, frozenset({Party.REVIEWER}), LedgerStep.RETURN,
                                  "payout.review_rejected"),
}


def move_for(status: PayoutStatus | None, action: PayoutAction) -> Move | None:
    return TRANSITIONS.get((status, action))


def allowed_actions(status: PayoutStatus) -> list[str]:
    """What a finance admin may do to a payout in `status`."""
    return [
        action.value for (source, action), move in TRANSITIONS.items()
        if source is status and Party.FINANCE in move.parties
    ]


def ledger_key(payout_id: str, step: LedgerStep, attempt: int) -> str:
    """The journal key of a step: a payout is paid at most once whatever the attempt, and
    each attempt reserves and returns at most once."""
    if step is LedgerStep.PAY or attempt == 1:
        return f"payout:{payout_id}:{step.value}"
    return f"payout:{payout_id}:{step.value}:{attempt}"


def ledger_transfer(step: LedgerStep, recipient_id: str, amount: int) -> Transfer:
    payable = ledger_accounts.payable(recipient_id)
    in_transit = ledger_accounts.in_transit(recipient_id)
    if step is LedgerStep.RESERVE:
        return Transfer(payable, in_transit, amount)
    if step is LedgerStep.PAY:
        return Transfer(in_transit, ledger_accounts.PAYOUTS, amount)
    return Transfer(in_transit, payable, amount)
