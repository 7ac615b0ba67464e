"""Background jobs of the orders domain: reservation expiry and delivery auto-confirmation."""

import logging
from datetime import datetime, timedelta

from app.core import clock
from app.core.config import settings
from app.core.database import transaction
from app.core.permissions import SYSTEM_ACTOR
from app.notifications import service as notifications
from app.orders import repository as repo
from app.orders.lifecycle import apply_move, system_move
from app.orders.models import Order, OrderAction, OrderStatus, Party
from app.orders.transitions import TRANSITIONS

log = logging.getLogger(__name__)

# Reservations last minutes; expiring them within seconds of their deadline is plenty.
EXPIRY_INTERVAL_SECONDS = 5.0
BATCH = 100


async def expire_reservations(limit: int = BATCH) -> bool:
    """Expire pending orders whose stock reservation ran out, releasing their stock; True when
    more may be waiting."""
    now = clock.utcnow()
    due = await repo.due_for_expiry(now, limit)
    expired = 0
    for order in due:
        try:
            if await expire_order(order, now) is not None:
                expired += 1
        except Exception:
            log.exception("could not expire an order", extra={"orderId": order.id})
    return len(due) == limit and expired > 0


async def expire_order(order: Order, now: datetime) -> Order | None:
    """pending_payment → expired, releasing its stock; None when it was paid, extended or moved."""
    move = TRANSITIONS[(OrderStatus.PENDING_PAYMENT, OrderAction.EXPIRE)]
    return await transaction(
        lambda session: apply_move(
            session, SYSTEM_ACTOR, order, OrderAction.EXPIRE, move, Party.SYSTEM,
            "The reservation expired before payment", {},
            {"reservation_expires_at": {"$lt": now}},
        )
    )


async def confirm_deliveries(limit: int = BATCH) -> bool:
    """Shipped orders the buyer has not confirmed: a reminder a day before the deadline,
    then the system marks them delivered (which starts the dispute window)."""
    days = settings().escrow.delivery_auto_confirm_days
    now = clock.utcnow()
    deadline = now - timedelta(days=days)
    due = await repo.shipped_before(now - timedelta(days=max(days - 1, 0)), limit)
    for order in due:
        if order.shipped_at and order.shipped_at <= deadline:
            await transaction(lambda session, order=order: system_move(
                session, order, OrderAction.DELIVER, SYSTEM_ACTOR, {}))
        else:
            await notifications.notify(
                None, key=f"delivery-reminder:{order.id}", user_id=order.buyer_id,
                kind="delivery_reminder", subject_type="order", subject_id=order.id,
                message="Your order will be marked delivered tomorrow unless you report a "
                        "problem. Confirm delivery or open a dispute.",
            )
    return len(due) == limit
