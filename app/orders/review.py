"""An ops admin's decision on an order the fraud checks held: approve (it may be paid, its
reservation starts again) or reject (cancelled, its stock released, its unpaid place freed).
The queue and count of held orders are `repository.on_review` / `count_on_review`."""

from datetime import timedelta

from app.core import clock
from app.core.config import settings
from app.core.database import transaction
from app.core.permissions import Actor
from app.orders import repository as repo
from app.orders.lifecycle import apply_move
from app.orders.models import OrderAction, OrderStatus, Party
from app.orders.parties import OrderView, view
from app.orders.queries import visible_order
from app.orders.transitions import TRANSITIONS
from app.platform_rules import service as platform_rules_service
from app.risk.exceptions import NotOnReview
from app.risk.models import ReviewAction
from app.risk.schemas import ReviewDecision

_ACTIONS = {ReviewAction.APPROVE: OrderAction.APPROVE, ReviewAction.REJECT: OrderAction.REJECT}


async def decide_review(actor: Actor, order_id: str, decision: ReviewDecision) -> OrderView:
    """on_review → pending_payment (approve) or cancelled (reject); 409 unless on review."""
    order = await visible_order(actor, order_id)
    action = _ACTIONS[decision.action]
    move = TRANSITIONS.get((order.status, action))
    if move is None:
        raise NotOnReview(order.status.value)
    changes: dict[str, object] = {}
    if action is OrderAction.APPROVE:
        rules = await platform_rules_service.get_pricing_rules()
        minutes = min(rules.reservation_minutes, settings().orders.reservation_max_minutes)
        changes["reservation_expires_at"] = clock.utcnow() + timedelta(minutes=minutes)
    else:
        changes["cancel_reason"] = decision.reason
    updated = await transaction(lambda session: apply_move(
        session, actor, order, action, move, Party.ADMIN, decision.reason, changes))
    if updated is None:  # decided (or cancelled) meanwhile
        fresh = await repo.get_visible(actor, order_id)
        raise NotOnReview(fresh.status.value if fresh else OrderStatus.CANCELLED.value)
    return view(actor, updated)
