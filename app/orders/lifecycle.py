"""The order lifecycle: status actions of the transition table, with their stock, audit and
cancellation hooks, whether a person or the system takes them."""

from collections.abc import Awaitable, Callable
from typing import Any

from app.audit import service as audit
from app.catalog import service as catalog_service
from app.core import clock
from app.core.database import Session, transaction
from app.core.permissions import SYSTEM_ACTOR, Actor
from app.dealers import service as dealers_service
from app.notifications import notices
from app.orders import repository as repo
from app.orders.exceptions import IllegalOrderTransition, OrderActionForbidden, OrderInputInvalid
from app.orders.models import Order, OrderAction, Party, StatusChange, StockState
from app.orders.parties import OrderView, parties
from app.orders.queries import visible_order
from app.orders.schemas import OrderStatusIn
from app.orders.transitions import (
    STOCK_EFFECTS,
    TRANSITIONS,
    UNPAID,
    Move,
    acting_party,
    allowed_actions,
)

CancellationHook = Callable[[Session, Order], Awaitable[None]]
_cancellation_hooks: list[CancellationHook] = []


def register_cancellation_hook(hook: CancellationHook) -> None:
    """Run `hook(session, order)` in the transaction that cancels an order that was paid."""
    if hook not in _cancellation_hooks:
        _cancellation_hooks.append(hook)


async def change_status(actor: Actor, order_id: str, data: OrderStatusIn) -> OrderView:
    """Move an order by one action of the transition table, as the caller's party."""
    order = await visible_order(actor, order_id)
    held = parties(actor, order)
    action = OrderAction(data.action)
    move, party = _authorise(order, action, held)
    if party is Party.DEALER:
        # A suspended or blocked dealer's orders wait for an admin (GET /api/admin/orders
        # ?dealerStatus=…); the dealer itself may no longer pack, ship or cancel them.
        await dealers_service.require_selling(order.dealer_id)
    changes = _details(action, move, party, data)
    updated = await transaction(
        lambda session: apply_move(session, actor, order, action, move, party, data.reason, changes)
    )
    if updated is None:
        raise await changed_meanwhile(order.id, held)
    return OrderView(updated, allowed_actions(updated.status, held))


def _authorise(order: Order, action: OrderAction, held: frozenset[Party]) -> tuple[Move, Party]:
    allowed = allowed_actions(order.status, held)
    move = TRANSITIONS.get((order.status, action))
    if move is None:
        raise IllegalOrderTransition(
            f"Cannot {action.value} an order that is {order.status.value}",
            {"status": order.status.value, "action": action.value, "allowedActions": allowed},
        )
    party = acting_party(move, held)
    if party is None:
        raise OrderActionForbidden(
            f"You may not {action.value} this order",
            {"status": order.status.value, "action": action.value, "allowedActions": allowed},
        )
    return move, party


def _details(action: OrderAction, move: Move, party: Party, data: OrderStatusIn) -> dict[str, Any]:
    if move.needs_reason(party) and not data.reason:
        why = "an admin override" if party is Party.ADMIN else f"a {party.value} to {action.value}"
        raise OrderInputInvalid("body.reason", f"a reason is required for {why}")
    if action is OrderAction.SHIP:
        for field, value in (("carrier", data.carrier), ("trackingNumber", data.tracking_number)):
            if not value:
                raise OrderInputInvalid(f"body.{field}", "required to ship an order")
        return {"carrier": data.carrier, "tracking_number": data.tracking_number,
                "shipped_at": clock.utcnow()}
    if data.carrier or data.tracking_number:
        raise OrderInputInvalid("body.carrier", "only allowed when shipping")
    if action is OrderAction.CANCEL:
        return {"cancel_reason": data.reason}
    return {}


async def changed_meanwhile(order_id: str, held: frozenset[Party]) -> IllegalOrderTransition:
    # The caller was allowed to see the order a moment ago: read it back as the system.
    fresh = await repo.get_visible(SYSTEM_ACTOR, order_id)
    status = fresh.status if fresh else None
    return IllegalOrderTransition(
        "The order changed meanwhile; reload it and retry",
        {"status": status.value if status else None,
         "allowedActions": allowed_actions(status, held) if status else []},
    )


async def system_move(
    session: Session, order: Order, action: OrderAction, actor: Actor, changes: dict[str, Any]
) -> Order:
    """A move the system makes (payment, completion, delivery auto-confirmation)."""
    move = TRANSITIONS.get((order.status, action))
    if move is None:
        raise IllegalOrderTransition(
            f"Cannot {action.value} an order that is {order.status.value}",
            {"status": order.status.value, "action": action.value,
             "allowedActions": allowed_actions(order.status, {Party.SYSTEM})},
        )
    updated = await apply_move(session, actor, order, action, move, Party.SYSTEM, None, changes)
    if updated is None:
        raise await changed_meanwhile(order.id, frozenset({Party.SYSTEM}))
    return updated


async def apply_move(
    session: Session,
    actor: Actor,
    order: Order,
    action: OrderAction,
    move: Move,
    party: Party,
    reason: str | None,
    changes: dict[str, Any],
    extra_filter: dict[str, Any] | None = None,
    *,
    hooks: bool = True,
) -> Order | None:
    """One transition: conditional on the order's status and version, with its stock and audit.

    Returns None (having changed nothing) when the order moved on since it was read.
    `hooks=False` skips the cancellation hooks (a cancellation the money already settled).
    """
    stock_after = STOCK_EFFECTS.get((action, order.stock_state), order.stock_state)
    override = move.overrides(party)
    if order.status in UNPAID and move.target not in UNPAID:
        changes = {**changes, "unpaid_slot": None}  # frees the buyer's unpaid-order place
    entry = StatusChange(
        from_status=order.status, to_status=move.target, action=action, by=actor.id,
        role=party, reason=reason, override=override, at=clock.utcnow(),
    )
    moved: dict[str, Any] = {"status": move.target.value, **changes}
    if stock_after is not order.stock_state:
        # The stock moves from the state it was read in: `commit_sold_stock` may have moved
        # it meanwhile (without a new version), and then nothing may change here.
        moved["stock_state"] = stock_after.value
        extra_filter = {**(extra_filter or {}), "stock_state": order.stock_state.value}
    updated = await repo.move(session, order, moved, entry, extra_filter)
    if updated is None:
        return None
    await _move_stock(session, order, stock_after)
    if hooks and action is OrderAction.CANCEL and order.payment_id:
        for hook in _cancellation_hooks:
            await hook(session, updated)
    recorded: dict[str, Any] = {"status": {"from": order.status, "to": move.target}}
    if stock_after is not order.stock_state:
        recorded["stockState"] = {"from": order.stock_state, "to": stock_after}
    await audit.record(
        session, actor=actor, action=f"order.{action.value}", subject_type="order",
        subject_id=order.id, changes=recorded, reason=reason, override=override,
        metadata={"party": party.value, **{k: v for k, v in changes.items() if v is not None}},
    )
    if action is OrderAction.SHIP:
        await notices.order_shipped(session, order_id=order.id, buyer_id=order.buyer_id,
                                    carrier=changes.get("carrier"),
                                    tracking_number=changes.get("tracking_number"))
    return updated


async def _move_stock(session: Session, order: Order, stock_after: StockState) -> None:
    before = order.stock_state
    if stock_after is before:
        return
    for item in order.items:
        if (before, stock_after) == (StockState.RESERVED, StockState.COMMITTED):
            await catalog_service.commit_stock(session, item.product_id, item.quantity)
        elif (before, stock_after) == (StockState.RESERVED, StockState.RELEASED):
            await catalog_service.release_stock(session, item.product_id, item.quantity)
        elif (before, stock_after) == (StockState.COMMITTED, StockState.RETURNED):
            await catalog_service.return_stock(session, item.product_id, item.quantity)

