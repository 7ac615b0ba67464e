"""An ops admin's decision on a payout the fraud checks held: approve (it is scheduled and
sent) or reject (its reserved money goes back to the payable balance). The payout runner
skips held payouts: only `scheduled` and `processing` ones are ever sent or resumed."""

import logging

from app.core.database import transaction
from app.core.permissions import Actor
from app.payouts import machine, repository
from app.payouts.exceptions import IllegalPayoutTransition, PayoutNotFound
from app.payouts.models import Payout, PayoutAction
from app.payouts.settlement import process_payout
from app.payouts.transitions import move_for
from app.risk.exceptions import NotOnReview
from app.risk.models import ReviewAction
from app.risk.schemas import ReviewDecision

log = logging.getLogger(__name__)
_ACTIONS = {ReviewAction.APPROVE: PayoutAction.APPROVE, ReviewAction.REJECT: PayoutAction.REJECT}


async def decide_review(actor: Actor, payout_id: str, decision: ReviewDecision) -> Payout:
    """on_review → scheduled, then sent (approve), or → rejected with its money returned
    (reject); 409 unless on review."""
    payout = await repository.get_payout(payout_id)
    if payout is None:
        raise PayoutNotFound
    action = _ACTIONS[decision.action]
    if move_for(payout.status, action) is None:
        raise NotOnReview(payout.status.value)
    changes = {"failure_reason": decision.reason} if action is PayoutAction.REJECT else {}
    try:
        decided = await transaction(lambda session: machine.apply(
            session, payout, action, actor, reason=decision.reason, changes=changes))
    except IllegalPayoutTransition:  # decided meanwhile
        fresh = await repository.get_payout(payout_id)
        raise NotOnReview(fresh.status.value if fresh else payout.status.value) from None
    if action is PayoutAction.REJECT:
        return decided
    try:
        return await process_payout(decided.id)
    except Exception:
        log.exception("sending an approved payout failed; left to the reconciler",
                      extra={"payoutId": decided.id})
        return await repository.get_payout(decided.id) or decided
