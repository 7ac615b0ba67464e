"""Reading the catalogue: one product, browsing listed products, a dealer's products."""

from app.catalog import repository
from app.catalog.access import Viewer, present
from app.catalog.exceptions import DealerNotFound, ProductNotFound
from app.catalog.models import ProductStatus
from app.catalog.schemas import BrowseFilters, ProductRead
from app.core.errors import RuleViolation
from app.core.pagination import PageRequest
from app.core.permissions import Actor
from app.dealers import service as dealers_service


async def get_product(actor: Actor | None, product_id: str) -> ProductRead:
    viewer = Viewer(actor)
    item = await repository.get_visible(viewer, product_id)
    if item is None:
        raise ProductNotFound
    return present(viewer, item)


async def browse(
    actor: Actor | None, filters: BrowseFilters, page: PageRequest
) -> tuple[list[ProductRead], str | None]:
    """Listed products (active, of a selling dealer); prices filter/sort on the caller's channel."""
    if (filters.min_price is not None and filters.max_price is not None
            and filters.min_price > filters.max_price):
        raise RuleViolation("minPrice must not exceed maxPrice", {"errors": [
            {"field": "query.minPrice", "message": "must not exceed maxPrice"}]})
    viewer = Viewer(actor)
    found, next_cursor = await repository.page_listed(viewer, filters, page)
    return [present(viewer, item, with_history=False) for item in found], next_cursor


async def list_dealer_products(
    actor: Actor | None, dealer_id: str, status: ProductStatus | None, page: PageRequest
) -> tuple[list[ProductRead], str | None]:
    """A dealer's products: all but archived (or `status`) for the owner and admins,
    only listed ones for everyone else (and none of a dealer that is not selling)."""
    viewer = Viewer(actor)
    if not viewer.manages_dealer(dealer_id):
        dealer = await dealers_service.get_dealer(dealer_id)
        if not dealers_service.is_selling(dealer):
            raise DealerNotFound
    found, next_cursor = await repository.page_dealer_products(viewer, dealer_id, status, page)
    return [present(viewer, item, with_history=False) for item in found], next_cursor
