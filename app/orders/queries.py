"""Reading orders as a caller: one order, and the lists of buyers, dealers and admins."""

from dataclasses import replace
from datetime import datetime

from app.core.errors import NotFound
from app.core.pagination import PageRequest
from app.core.permissions import Actor, Permission, Role
from app.dealers import service as dealers_service
from app.dealers.models import DealerStatus
from app.orders import repository as repo
from app.orders.exceptions import OrderNotFound
from app.orders.models import Order, OrderStatus
from app.orders.parties import OrderView, view
from app.orders.repository import OrderFilter


async def visible_order(actor: Actor, order_id: str) -> Order:
    """The order if `actor` may see it; OrderNotFound (404) for anyone else."""
    order = await repo.get_visible(actor, order_id)
    if order is None:
        raise OrderNotFound
    return order


async def get_visible(actor: Actor, order_id: str) -> OrderView:
    """The order if `actor` is its buyer, its dealer or an admin; 404 for anyone else."""
    return view(actor, await visible_order(actor, order_id))


async def list_mine(
    actor: Actor, status: OrderStatus | None, page: PageRequest
) -> tuple[list[OrderView], str | None]:
    """A dealer's received orders, or anyone else's own orders as a buyer."""
    if actor.role is Role.DEALER:
        if actor.dealer_id is None:
            return [], None
        filters = OrderFilter(dealer_id=actor.dealer_id, status=status)
    else:
        filters = OrderFilter(buyer_id=actor.id, status=status)
    return await _page(actor, filters, page)


async def dealer_status_counts(actor: Actor, dealer_id: str) -> dict[str, int]:
    """A dealer's orders per status, as far as `actor` may see them."""
    return await repo.dealer_status_counts(actor, dealer_id)


async def dealer_sales_since(actor: Actor, dealer_id: str, since: datetime) -> int:
    """Paise of a dealer's paid orders placed since `since`."""
    return await repo.dealer_sales_since(actor, dealer_id, since)


async def list_for_dealer(
    actor: Actor, dealer_id: str, status: OrderStatus | None, page: PageRequest
) -> tuple[list[OrderView], str | None]:
    """Orders received by a dealer, for that dealer or admins; 404 for anyone else."""
    if actor.dealer_id != dealer_id and not actor.can(Permission.ORDERS_READ_ALL):
        raise NotFound("Dealer not found")
    return await _page(actor, OrderFilter(dealer_id=dealer_id, status=status), page)


# The orders of a stopped dealer that await an admin's decision: its money is held for the
# dealer and the order is not finished (the dealer can no longer pack, ship or cancel it).
AWAITING_DECISION = (OrderStatus.PAID, OrderStatus.PACKED, OrderStatus.SHIPPED,
                     OrderStatus.DELIVERED)


async def list_all(
    actor: Actor, filters: OrderFilter, page: PageRequest, dealer_status: DealerStatus | None = None
) -> tuple[list[OrderView], str | None]:
    """Every order matching `filters`; with `dealer_status`, only the orders of dealers now in
    that status, and unless `filters` names a status, only those awaiting a decision."""
    if dealer_status is not None:
        ids = tuple(await dealers_service.ids_with_status(dealer_status))
        if filters.dealer_id is not None:
            ids = tuple(i for i in ids if i == filters.dealer_id)
        filters = replace(filters, dealer_id=None, dealer_ids=ids,
                          statuses=None if filters.status else AWAITING_DECISION)
    return await _page(actor, filters, page)


async def _page(
    actor: Actor, filters: OrderFilter, page: PageRequest
) -> tuple[list[OrderView], str | None]:
    orders, next_cursor = await repo.list_visible(actor, filters, page)
    return [view(actor, order) for order in orders], next_cursor
