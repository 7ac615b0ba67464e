"""Background jobs of the orders domain: reservation expiry, delivery auto-confirmation, and
the reservation reconciler.

The reservation reconciler. Checkout reserves each line's stock (one conditional update per
product) and only then saves the order; a crash in between leaves units reserved that no
order holds, for ever. The reconciler recounts, per product holding reserved units, what the
live orders hold (orders whose `stock_state` is `reserved`) and releases the excess.

It must never release a unit of an order being placed right now, whose reservation is in
the product's `reservedCount` while its order is not saved yet. Every write to a product's
stock (reserve, release, sale, restock, stock update) also sets its `updated_at`, so:

1. it looks only at products whose stock nothing has written for
   `RESERVATION_RECONCILE_QUIET_SECONDS` (default 300 s): longer than any checkout takes from
   reserving to saving its order (the save's transaction gives up after 120 s), so no
   reservation of such a product belongs to an order still being placed;
2. it reads the product's `reservedCount` and `updated_at`, then sums the live orders'
   units of the product;
3. it releases `reservedCount - held` with one conditional update on exactly the
   `reservedCount` and `updated_at` it read, in a transaction with its audit entry. A
   checkout (or expiry, payment, cancellation) touching the product after step 2 wrote a
   later `updated_at`, so the update matches nothing and the product waits for a later run.

A product with fewer units reserved than its orders hold is logged, never "corrected" upward.
A product busy without a pause as long as the quiet period is reconciled in its next lull.
It runs at start-up and every `RESERVATION_RECONCILE_INTERVAL_SECONDS`, under a lease.
"""

import logging
from datetime import datetime, timedelta

from app.catalog import service as catalog_service
from app.core import clock
from app.core.config import settings
from app.core.database import transaction
from app.core.permissions import SYSTEM_ACTOR
from app.notifications import service as notifications
from app.orders import repository as repo
from app.orders.lifecycle import apply_move, system_move
from app.orders.models import Order, OrderAction, OrderStatus, Party
from app.orders.service import commit_sold_stock
from app.orders.transitions import TRANSITIONS

log = logging.getLogger(__name__)

# Reservations last minutes; expiring them within seconds of their deadline is plenty.
EXPIRY_INTERVAL_SECONDS = 5.0
BATCH = 100
RECONCILE_BATCH = 200


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


async def commit_sold_stock_left(before: datetime, limit: int = BATCH) -> int:
    """Commit the stock of paid orders that still hold it reserved since before `before`
    (the process died between a capture and its `commit_sold_stock`); how many it committed."""
    committed = 0
    for order_id in await repo.sold_holding_reserved_stock(before, limit):
        try:
            committed += await commit_sold_stock(order_id)
        except Exception:
            log.exception("could not commit the sold stock of a paid order",
                          extra={"orderId": order_id})
    return committed


async def reconcile_reservations(limit: int = RECONCILE_BATCH) -> bool:
    """Commit the stock of paid orders left holding it reserved, then release reserved units
    that no live order holds (see the module docstring)."""
    quiet = timedelta(seconds=settings().escrow.reservation_reconcile_quiet_seconds)
    before = clock.utcnow() - quiet
    await commit_sold_stock_left(before)
    after: str | None = None
    while True:
        stocks = await catalog_service.reserved_untouched_since(before, limit, after)
        held = await repo.reserved_units([stock.product_id for stock in stocks])
        for stock in stocks:
            holding = held.get(stock.product_id, 0)
            excess = stock.reserved - holding
            if excess > 0:
                if await catalog_service.release_unheld(stock, excess, holding):
                    log.warning("released reserved stock that no order held", extra={
                        "productId": stock.product_id, "units": excess})
            elif excess < 0:
                log.error("orders hold more units than are reserved", extra={
                    "productId": stock.product_id, "reserved": stock.reserved,
                    "heldByOrders": holding})
        if len(stocks) < limit:
            return False
        after = stocks[-1].product_id
