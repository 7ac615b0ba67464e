"""The order state machine: one table of (state, action) → (new state, who may do it)."""

from collections.abc import Iterable
from dataclasses import dataclass

from app.orders.models import OrderAction, OrderStatus, Party, StockState

S, A, P = OrderStatus, OrderAction, Party


@dataclass(frozen=True)
class Move:
    target: OrderStatus
    parties: frozenset[Party]
    reason_from: frozenset[Party] = frozenset()
    # An admin's own routine decision (a fraud review), not an override of someone else's.
    admin_decides: bool = False

    def needs_reason(self, party: Party) -> bool:
        # An admin acting on someone else's order is always an override, with a reason.
        return party in self.reason_from or party is Party.ADMIN

    def overrides(self, party: Party) -> bool:
        return party is Party.ADMIN and not self.admin_decides


_CANCEL = Move(S.CANCELLED, frozenset({P.BUYER, P.DEALER, P.ADMIN}), frozenset({P.DEALER}))
# A paid order refunded in full before shipping is cancelled by the system (its stock goes
# back on the shelf); the refund already moved the money.
_CANCEL_PAID = Move(S.CANCELLED, frozenset({P.BUYER, P.DEALER, P.ADMIN, P.SYSTEM}),
                    frozenset({P.DEALER}))
# The disputes domain closes an order whose dispute was resolved before delivery; the
# deciding admin's override is recorded on it (`order.resolve`, override: true).
_RESOLVE = Move(S.COMPLETED, frozenset({P.SYSTEM}))

TRANSITIONS: dict[tuple[OrderStatus, OrderAction], Move] = {
    # Held by the fraud checks: only an ops admin's review moves it on; its buyer (or dealer,
    # or an admin) may still cancel it.
    (S.ON_REVIEW, A.APPROVE): Move(S.PENDING_PAYMENT, frozenset({P.ADMIN}), admin_decides=True),
    (S.ON_REVIEW, A.REJECT): Move(S.CANCELLED, frozenset({P.ADMIN}), admin_decides=True),
    (S.ON_REVIEW, A.CANCEL): _CANCEL,
    (S.PENDING_PAYMENT, A.PAY): Move(S.PAID, frozenset({P.SYSTEM})),
    (S.PENDING_PAYMENT, A.EXPIRE): Move(S.EXPIRED, frozenset({P.SYSTEM})),
    (S.PAID, A.PACK): Move(S.PACKED, frozenset({P.DEALER})),
    (S.PACKED, A.SHIP): Move(S.SHIPPED, frozenset({P.DEALER})),
    (S.SHIPPED, A.DELIVER): Move(S.DELIVERED, frozenset({P.BUYER, P.ADMIN, P.SYSTEM})),
    (S.DELIVERED, A.COMPLETE): Move(S.COMPLETED, frozenset({P.SYSTEM})),
    (S.PENDING_PAYMENT, A.CANCEL): _CANCEL,
    (S.PAID, A.CANCEL): _CANCEL_PAID,
    (S.PACKED, A.CANCEL): _CANCEL_PAID,
    **{(status, A.RESOLVE): _RESOLVE for status in (S.PAID, S.PACKED, S.SHIPPED)},
}

# What each move does to the order's stock in the catalogue: reserved → released on cancel or
# expiry, and sold units of a paid order cancelled before shipping go back on the shelf.
# Payment does not move the stock: a paid order's reserved units become sold (committed) by
# `commit_sold_stock`, in its own small transaction right after the capture's (see there).
STOCK_EFFECTS: dict[tuple[OrderAction, StockState], StockState] = {
    (A.EXPIRE, StockState.RESERVED): StockState.RELEASED,
    (A.CANCEL, StockState.RESERVED): StockState.RELEASED,
    (A.REJECT, StockState.RESERVED): StockState.RELEASED,
    (A.CANCEL, StockState.COMMITTED): StockState.RETURNED,
}


# Statuses of an order not yet paid: it holds one of its buyer's unpaid-order places (an order
# on review too, so held orders cannot pile up reservations past MAX_UNPAID_ORDERS_PER_CUSTOMER).
UNPAID = frozenset({S.ON_REVIEW, S.PENDING_PAYMENT})

# Statuses of an order that was paid and not cancelled: its reserved stock is sold.
SOLD = frozenset({S.PAID, S.PACKED, S.SHIPPED, S.DELIVERED, S.COMPLETED})


def allowed_actions(status: OrderStatus, parties: Iterable[Party]) -> list[str]:
    """The actions these parties may take on an order in `status`."""
    held = frozenset(parties)
    return [
        action.value
        for (source, action), move in TRANSITIONS.items()
        if source is status and move.parties & held
    ]


def acting_party(move: Move, parties: Iterable[Party]) -> Party | None:
    """The capacity in which the actor makes this move (the order's own parties first)."""
    for party in (P.SYSTEM, P.BUYER, P.DEALER, P.ADMIN):
        if party in move.parties and party in parties:
            return party
    return None
