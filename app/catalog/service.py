"""The catalogue as other domains use it: product snapshots and the stock contract.

The catalogue's own use cases sit beside it: `listing.py` (create, edit, moderate, archive),
`browse.py` (reads), `inventory.py` (dealers' stock).

Stock functions for other domains (`reserve_stock`, `release_stock`, `commit_stock`) each
make ONE atomic conditional update of the product's inventory document, never a read then a
write; pass the caller's session so they join its transaction.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from app.audit import service as audit
from app.catalog import inventory_repository, repository
from app.catalog.exceptions import StockNotReserved
from app.core.database import Session, transaction
from app.core.permissions import SYSTEM_ACTOR

log = logging.getLogger(__name__)


# --- the contract other domains use ---------------------------------------------------


@dataclass(frozen=True)
class ProductSnapshot:
    """A product as orders price and check it: every status, with its available stock."""

    id: str
    dealer_id: str
    sku: str
    title: str
    brand: str
    category: str
    b2b_price: int
    b2c_price: int
    mrp: int
    status: str
    min_b2b_quantity: int | None
    dealer_listed: bool
    available: int


async def get_products(product_ids: list[str]) -> dict[str, ProductSnapshot]:
    """Products by id (any status) with their available stock; unknown ids are absent."""
    ids = list(dict.fromkeys(product_ids))
    if not ids:
        return {}
    found = await repository.find_products(ids)
    stock = await inventory_repository.find_inventories([product.id for product in found])
    return {
        product.id: ProductSnapshot(
            id=product.id, dealer_id=product.dealer_id, sku=product.sku, title=product.title,
            brand=product.brand, category=product.category.value, b2b_price=product.b2b_price,
            b2c_price=product.b2c_price, mrp=product.mrp, status=product.status.value,
            min_b2b_quantity=product.min_b2b_quantity, dealer_listed=product.dealer_listed,
            available=stock.get(product.id, {}).get("available", 0),
        )
        for product in found
    }


def _units(quantity: int) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise ValueError(f"stock quantity must be a positive int, not {quantity!r}")
    return quantity


async def reserve_stock(session: Session | None, product_id: str, quantity: int) -> bool:
    """Move `quantity` from available to reserved if that much is available; False if not."""
    return await inventory_repository.reserve(session, product_id, _units(quantity))


async def release_stock(session: Session | None, product_id: str, quantity: int) -> None:
    """Return reserved units to available; never takes reserved below zero (then logs)."""
    if not await inventory_repository.release(session, product_id, _units(quantity)):
        log.warning(
            "release of more stock than is reserved ignored",
            extra={"productId": product_id, "quantity": quantity},
        )


async def commit_stock(session: Session | None, product_id: str, quantity: int) -> None:
    """A paid sale: quantity and reserved both drop by `quantity` (available is unchanged).

    Raises StockNotReserved (409) when fewer units are reserved, so the caller's
    transaction aborts instead of selling stock that was never held.
    """
    if not await inventory_repository.commit(session, product_id, _units(quantity)):
        raise StockNotReserved(data={"productId": product_id, "quantity": quantity})


async def return_stock(session: Session | None, product_id: str, quantity: int) -> None:
    """Sold units come back (a paid order was cancelled before shipping): quantity and
    available both rise by `quantity`."""
    await inventory_repository.restock(session, product_id, _units(quantity))


@dataclass(frozen=True)
class HeldStock:
    """A product's reserved units as read, and when its stock was last written."""

    product_id: str
    reserved: int
    available: int
    touched_at: datetime


async def reserved_untouched_since(
    before: datetime, limit: int, after_id: str | None = None
) -> list[HeldStock]:
    """Products holding reserved units whose stock nothing has written since `before`."""
    return [
        HeldStock(doc["_id"], doc["reserved_count"], doc["available"], doc["updated_at"])
        for doc in await inventory_repository.reserved_untouched_since(before, limit, after_id)
    ]


async def release_unheld(stock: HeldStock, units: int, held_by_orders: int) -> bool:
    """Release `units` reserved units that no order holds, audited, only while the product's
    stock is exactly as `stock` read it; False (nothing changed) otherwise."""

    async def work(session: Session) -> bool:
        if not await inventory_repository.release_unheld(
            session, stock.product_id, stock.reserved, stock.touched_at, _units(units)
        ):
            return False
        await audit.record(
            session, actor=SYSTEM_ACTOR, action="inventory.reservations_reconciled",
            subject_type="inventory", subject_id=stock.product_id,
            reason="Reserved units that no live order holds were released",
            changes={"reservedCount": {"from": stock.reserved, "to": stock.reserved - units},
                     "available": {"from": stock.available, "to": stock.available + units}},
            metadata={"released": units, "heldByOrders": held_by_orders},
        )
        return True

    return await transaction(work)


async def set_dealer_listing_visibility(
    session: Session | None, dealer_id: str, listed: bool
) -> int:
    """Show or hide every product of a dealer at once (approval, suspension, block).

    Registered with dealers as their selling hook: runs in the status change's transaction.
    """
    if session is None:  # the version bump and the stamps need a transaction of their own
        return await transaction(
            lambda own: repository.set_dealer_listed(own, dealer_id, listed)
        )
    return await repository.set_dealer_listed(session, dealer_id, listed)
