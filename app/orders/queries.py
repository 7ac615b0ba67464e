"""Reading orders as a caller: one order, and the lists of buyers, dealers and admins."""

from app.core.errors import NotFound
from app.core.pagination import PageRequest
from app.core.permissions import Actor, Permission, Role
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


async def list_for_dealer(
    actor: Actor, dealer_id: str, status: OrderStatus | None, page: PageRequest
) -> tuple[list[OrderView], str | None]:
    """Orders received by a dealer, for that dealer or admins; 404 for anyone else."""
    if actor.dealer_id != dealer_id and not actor.can(Permission.ORDERS_READ_ALL):
        raise NotFound("Dealer not found")
    return await _page(actor, OrderFilter(dealer_id=dealer_id, status=status), page)


async def list_all(
    actor: Actor, filters: OrderFilter, page: PageRequest
) -> tuple[list[OrderView], str | None]:
    return await _page(actor, filters, page)


async def _page(
    actor: Actor, filters: OrderFilter, page: PageRequest
) -> tuple[list[OrderView], str | None]:
    orders, next_cursor = await repo.list_visible(actor, filters, page)
    return [view(actor, order) for order in orders], next_cursor
