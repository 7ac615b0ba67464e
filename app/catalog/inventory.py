"""Dealers' stock: listing with low-stock flags, and all-or-nothing bulk stock updates."""

from typing import Any

from app.audit import service as audit
from app.catalog import inventory_repository
from app.catalog.access import Viewer
from app.catalog.exceptions import InventoryNotFound, StockBelowReserved
from app.catalog.models import Inventory
from app.catalog.schemas import InventoryItemRead, InventoryUpdate
from app.core.database import Session, transaction
from app.core.errors import RuleViolation
from app.core.pagination import PageRequest
from app.core.permissions import Actor
from app.dealers import service as dealers_service

# A product is low on stock when this many units or fewer are available to sell.
LOW_STOCK_THRESHOLD = 5


def _check_manages(viewer: Viewer, dealer_id: str) -> None:
    """Only the dealer itself and admins see or change a dealer's inventory (else 404)."""
    if not viewer.manages_dealer(dealer_id):
        raise InventoryNotFound


async def _present(items: list[Inventory]) -> list[InventoryItemRead]:
    labels = await inventory_repository.product_labels([item.id for item in items])
    return [
        InventoryItemRead(
            id=item.id, product_id=item.product_id,
            sku=labels.get(item.id, {}).get("sku", ""),
            title=labels.get(item.id, {}).get("title", ""),
            status=labels.get(item.id, {}).get("status"),
            quantity=item.quantity, reserved_count=item.reserved_count,
            available=item.available, low_stock=item.available <= LOW_STOCK_THRESHOLD,
            updated_at=item.updated_at,
        )
        for item in items
    ]


async def list_inventory(
    actor: Actor, dealer_id: str, low_stock_only: bool, page: PageRequest
) -> tuple[list[InventoryItemRead], str | None]:
    viewer = Viewer(actor)
    _check_manages(viewer, dealer_id)
    items, next_cursor = await inventory_repository.page_inventory(
        viewer, dealer_id, LOW_STOCK_THRESHOLD if low_stock_only else None, page
    )
    return await _present(items), next_cursor


async def low_stock(
    actor: Actor, dealer_id: str, limit: int
) -> tuple[int, list[InventoryItemRead]]:
    """How many of the dealer's products are low on stock, and the `limit` lowest."""
    _check_manages(Viewer(actor), dealer_id)
    count, items = await inventory_repository.low_stock(dealer_id, LOW_STOCK_THRESHOLD, limit)
    return count, (await _present(items) if items else [])


def _below_reserved(index: int, product_id: str, quantity: int, reserved: int) -> dict[str, Any]:
    return {
        "field": f"body.items.{index}.quantity", "productId": product_id,
        "message": f"{quantity} is below the {reserved} units reserved for product {product_id}",
    }


async def set_stock(actor: Actor, dealer_id: str, update: InventoryUpdate) -> list[InventoryItemRead]:
    """Set each product's stock; nothing changes unless every item is valid."""
    _check_manages(Viewer(actor), dealer_id)
    if not actor.is_admin:
        await dealers_service.require_selling(dealer_id)
    ids = [item.product_id for item in update.items]
    current = await inventory_repository.find_inventories(ids)
    unknown, too_low = [], []
    for index, item in enumerate(update.items):
        stock = current.get(item.product_id)
        if stock is None or stock["dealer_id"] != dealer_id:
            unknown.append({"field": f"body.items.{index}.productId", "productId": item.product_id,
                            "message": f"{item.product_id} is not one of this dealer's products"})
        elif item.quantity < stock["reserved_count"]:
            too_low.append(_below_reserved(index, item.product_id, item.quantity,
                                           stock["reserved_count"]))
    if unknown:
        raise RuleViolation("Unknown products in the stock update", {"errors": unknown})
    if too_low:
        raise StockBelowReserved(data={"errors": too_low})

    async def work(session: Session) -> None:
        for index, item in enumerate(update.items):
            before = await inventory_repository.set_quantity(session, dealer_id, item.product_id,
                                                   item.quantity)
            if before is None:  # a reservation landed since the check above
                fresh = await inventory_repository.find_inventories([item.product_id], session=session)
                reserved = fresh.get(item.product_id, {}).get("reserved_count", 0)
                raise StockBelowReserved(data={"errors": [
                    _below_reserved(index, item.product_id, item.quantity, reserved)]})
            if before["quantity"] != item.quantity:
                await audit.record(
                    session, actor=actor, action="inventory.stock_set",
                    subject_type="inventory", subject_id=item.product_id,
                    changes={
                        "quantity": {"from": before["quantity"], "to": item.quantity},
                        "available": {"from": before["available"],
                                      "to": item.quantity - before["reserved_count"]},
                    },
                    metadata={"dealerId": dealer_id},
                )

    await transaction(work)
    after = await inventory_repository.find_inventories(ids)
    return await _present([Inventory.model_validate(after[pid]) for pid in ids if pid in after])
