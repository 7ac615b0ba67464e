"""What other domains call on orders: `get_order`, `validate_for_payment`,
`extend_reservation`, `mark_paid`, `commit_sold_stock`, `mark_completed`,
`cancel_after_full_refund`, `close_after_dispute`, `register_cancellation_hook`, and the
fraud-review queue (`on_review`, `count_on_review`).

Checkout lives in `checkout.py`, status actions in `lifecycle.py`, reads for callers in
`queries.py` and the background jobs in `tasks.py`.
"""

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.audit import service as audit
from app.catalog import service as catalog_service
from app.core import clock
from app.core.config import settings
from app.core.database import Session, transaction
from app.core.permissions import SYSTEM_ACTOR, Actor
from app.core.queues import QueuePosition, Waiting
from app.dealers.models import Dealer
from app.orders import repository as repo
from app.orders.checkout import revalidate_with_dealer
from app.orders.exceptions import IllegalOrderTransition, OrderActionForbidden, OrderNotFound
from app.orders.lifecycle import apply_move, changed_meanwhile, register_cancellation_hook, system_move
from app.orders.models import Order, OrderAction, OrderStatus, Party, StockState
from app.orders.parties import parties
from app.orders.queries import visible_order
from app.orders.transitions import TRANSITIONS
from app.risk.exceptions import HeldForReview

__all__ = [
    "cancel_after_full_refund",
    "close_after_dispute",
    "commit_sold_stock",
    "count_on_review",
    "extend_reservation",
    "get_order",
    "mark_completed",
    "mark_paid",
    "on_review",
    "payment_check",
    "register_cancellation_hook",
    "validate_for_payment",
]


async def _order(order_id: str, session: Session | None = None) -> Order:
    order = await repo.get_visible(SYSTEM_ACTOR, order_id, session)
    if order is None:
        raise OrderNotFound
    return order


async def get_order(order_id: str) -> Order:
    """The order, whoever asks (for other domains' services); OrderNotFound if none."""
    return await _order(order_id)


@dataclass(frozen=True)
class PaymentCheck:
    """An order that passed every rule for payment, and its dealer as checked."""

    order: Order
    dealer: Dealer


async def validate_for_payment(actor: Actor, order_id: str) -> Order:
    """The buyer's pending order, provided it still passes every rule (else 404/403/409/422)."""
    return (await payment_check(actor, order_id)).order


async def payment_check(actor: Actor, order_id: str) -> PaymentCheck:
    """`validate_for_payment`, with the dealer it checked (approved, else it would fail)."""
    order = await visible_order(actor, order_id)
    if Party.BUYER not in parties(actor, order):
        raise OrderActionForbidden("Only the buyer can pay for an order")
    if order.status is OrderStatus.ON_REVIEW:
        raise HeldForReview(
            "The order is on fraud review: it can be paid once an admin approves it",
            order.status.value, order.risk_flags,
        )
    expires_at = order.reservation_expires_at
    if expires_at is not None and expires_at <= clock.utcnow():
        raise IllegalOrderTransition(
            "The order's stock reservation ran out; place the order again",
            {"status": order.status.value, "reservationExpiresAt": expires_at.isoformat(),
             "allowedActions": []},
        )
    _, dealer = await revalidate_with_dealer(actor, order)
    assert dealer is not None  # a quote without a selling dealer is blocked
    return PaymentCheck(order, dealer)


async def mark_paid(
    session: Session, order_id: str, payment_id: str, actor: Actor = SYSTEM_ACTOR
) -> Order:
    """pending_payment → paid; a replay of the same payment is a no-op. The stock stays
    reserved for the order until `commit_sold_stock` (call it once this transaction commits)."""
    order = await _order(order_id, session)
    if order.payment_id == payment_id and order.status is not OrderStatus.PENDING_PAYMENT:
        return order
    return await system_move(session, order, OrderAction.PAY, actor, {"payment_id": payment_id})


async def commit_sold_stock(order_id: str) -> bool:
    """A paid order's reserved units become sold (the product's quantity and reserved count
    both drop); False when there was nothing to commit (done already, or cancelled first).

    Its own small transaction after the capture's, not part of it: every buyer of a popular
    product writes that product's inventory, and inside the capture transaction (payment,
    ledger, order, audit) each such conflict redid the whole capture (measured: 314 retries
    for 32 concurrent purchases of one product). Until this runs the units stay reserved
    for the order (`stock_state` reserved), so the catalogue and the reservation reconciler
    stay consistent; a crash in between is caught up by `tasks.commit_sold_stock_left`.
    """

    async def work(session: Session) -> bool:
        lines = await repo.sell_reserved_stock(session, order_id)
        if lines is None:
            return False
        await audit.record(
            session, actor=SYSTEM_ACTOR, action="order.stock_committed", subject_type="order",
            subject_id=order_id,
            changes={"stockState": {"from": StockState.RESERVED, "to": StockState.COMMITTED}},
        )
        # The hot document last, each product written by one of this process's
        # transactions at a time (held until the commit), so concurrent buyers of one
        # product queue here instead of conflicting on its inventory and rerunning
        # (measured: 243 reruns for 32 concurrent purchases of one product).
        await seller.take([product_id for product_id, _ in lines])
        for product_id, quantity in lines:
            await catalog_service.commit_stock(session, product_id, quantity)
        return True

    seller = _Seller()
    try:
        return await transaction(work)
    finally:
        seller.release()


class _Seller:
    """Per-process turns on products' inventory for committing sold stock. Other processes
    may still conflict with this one; their transactions rerun as before."""

    _turns: dict[str, tuple[asyncio.Lock, int]] = {}

    def __init__(self) -> None:
        self.held: list[str] = []

    async def take(self, product_ids: list[str]) -> None:
        """Wait for the turn on each product (in one order, so no two wait on each other);
        a rerun of the transaction keeps the turns it holds."""
        for product_id in sorted(set(product_ids) - set(self.held)):
            lock, users = self._turns.get(product_id, (asyncio.Lock(), 0))
            self._turns[product_id] = (lock, users + 1)
            try:
                await lock.acquire()
            except BaseException:
                self._leave(product_id)
                raise
            self.held.append(product_id)

    def release(self) -> None:
        for product_id in self.held:
            self._turns[product_id][0].release()
            self._leave(product_id)
        self.held.clear()

    def _leave(self, product_id: str) -> None:
        lock, users = self._turns[product_id]
        if users == 1:
            del self._turns[product_id]
        else:
            self._turns[product_id] = (lock, users - 1)


async def mark_completed(session: Session, order_id: str, actor: Actor = SYSTEM_ACTOR) -> Order:
    """delivered → completed when the escrow is released; completing twice is a no-op."""
    order = await _order(order_id, session)
    if order.status is OrderStatus.COMPLETED:
        return order
    return await system_move(session, order, OrderAction.COMPLETE, actor, {})


async def extend_reservation(
    session: Session, order_id: str, until: datetime, actor: Actor = SYSTEM_ACTOR,
    placed_at: datetime | None = None,
) -> Order:
    """Keep a pending order's stock reserved until at least `until` (409 unless pending),
    never past ORDER_RESERVATION_MAX_MINUTES after the order was placed (`placed_at`, when
    the caller has the order already; else it is read)."""
    if placed_at is None:
        placed_at = (await _order(order_id, session)).created_at
    limit = placed_at + timedelta(minutes=settings().orders.reservation_max_minutes)
    updated = await repo.extend_reservation(session, order_id, min(until, limit))
    if updated is None:
        order = await _order(order_id, session)
        raise IllegalOrderTransition(
            f"The reservation of a {order.status.value} order cannot be extended",
            {"status": order.status.value, "allowedActions": []},
        )
    await audit.record(
        session, actor=actor, action="order.reservation_extended", subject_type="order",
        subject_id=order_id,
        changes={"reservationExpiresAt": {"to": updated.reservation_expires_at}},
    )
    return updated


FULL_REFUND_REASON = "Refunded in full before shipping"


async def cancel_after_full_refund(session: Session, order_id: str) -> Order | None:
    """In the refund's transaction: a paid order refunded in full before shipping is cancelled
    and its stock goes back on the shelf; None (nothing changed) once it has shipped or ended.

    The cancellation hooks do not run: the refund that calls this already moved the money."""
    order = await _order(order_id, session)
    if order.status not in (OrderStatus.PAID, OrderStatus.PACKED):
        return None
    move = TRANSITIONS[(order.status, OrderAction.CANCEL)]
    updated = await apply_move(
        session, SYSTEM_ACTOR, order, OrderAction.CANCEL, move, Party.SYSTEM,
        FULL_REFUND_REASON, {"cancel_reason": FULL_REFUND_REASON}, hooks=False,
    )
    if updated is None:
        raise await changed_meanwhile(order.id, frozenset({Party.SYSTEM}))
    return updated


async def close_after_dispute(
    session: Session, order_id: str, actor: Actor, reason: str
) -> Order | None:
    """In the transaction that resolves a dispute: an order not yet delivered is completed as
    the deciding admin's override (with the resolution note as its reason); None when the
    order was delivered, completed or cancelled already (nothing to close)."""
    order = await _order(order_id, session)
    move = TRANSITIONS.get((order.status, OrderAction.RESOLVE))
    if move is None:
        return None
    updated = await apply_move(session, actor, order, OrderAction.RESOLVE, move, Party.ADMIN,
                               reason, {})
    if updated is None:
        raise await changed_meanwhile(order.id, frozenset({Party.SYSTEM}))
    return updated


async def on_review(actor: Actor, after: QueuePosition | None, limit: int) -> list[Waiting]:
    """Orders the fraud checks hold, oldest first (decided with
    PATCH /api/admin/orders/{orderId}/review)."""
    return await repo.on_review(actor, after, limit)


async def count_on_review(actor: Actor) -> int:
    return await repo.count_on_review(actor)
