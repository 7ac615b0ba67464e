"""Every query on stock: inventories, reservations and their reconciliation, low stock."""

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument

from app.catalog.access import Viewer
from app.catalog.models import (
    Inventory,
)
from app.catalog.repository import at_most, inventories, products
from app.core import clock
from app.core.database import Session
from app.core.pagination import PageRequest, paginate


async def find_inventories(
    product_ids: list[str], session: Session | None = None
) -> dict[str, dict[str, Any]]:
    docs = await inventories().find({"_id": {"$in": product_ids}}, session=session).to_list()
    return {doc["_id"]: doc for doc in docs}


async def page_inventory(
    viewer: Viewer, dealer_id: str, low_stock_at: int | None, page: PageRequest
) -> tuple[list[Inventory], str | None]:
    """A dealer's stock, for the dealer itself and admins (nothing for anyone else)."""
    if not viewer.manages_dealer(dealer_id):
        return [], None
    query: dict[str, Any] = {"dealer_id": dealer_id}
    if low_stock_at is not None:
        query["available"] = at_most(low_stock_at)
    docs, next_cursor = await paginate(inventories(), query, page)
    return [Inventory.model_validate(doc) for doc in docs], next_cursor


async def low_stock(dealer_id: str, low_stock_at: int, limit: int) -> tuple[int, list[Inventory]]:
    """How many of a dealer's products have at most `low_stock_at` units available, and the
    `limit` lowest of them: one aggregation over the `low_stock` (dealer, available) index."""
    pipeline: list[dict[str, Any]] = [
        {"$match": {"dealer_id": dealer_id, "available": at_most(low_stock_at)}},
        {"$facet": {"count": [{"$count": "n"}],
                    "items": [{"$sort": {"available": 1, "_id": 1}}, {"$limit": limit}]}},
    ]
    rows = await (await inventories().aggregate(pipeline)).to_list()
    counted = rows[0]["count"] if rows else []
    items = rows[0]["items"] if rows else []
    return (counted[0]["n"] if counted else 0), [Inventory.model_validate(d) for d in items]


async def product_labels(product_ids: list[str]) -> dict[str, dict[str, Any]]:
    """sku, title and status of each product, for inventory listings."""
    docs = await products().find(
        {"_id": {"$in": product_ids}}, {"sku": 1, "title": 1, "status": 1}
    ).to_list()
    return {doc["_id"]: doc for doc in docs}


async def set_quantity(
    session: Session, dealer_id: str, product_id: str, quantity: int
) -> dict[str, Any] | None:
    """Set the stock of one product unless that goes below its reserved count.

    One guarded update computes `available` from the stored `reserved_count`, so a
    concurrent reservation can never be overwritten. Returns the document before the
    change, or None when the guard refused it (or the product is not this dealer's).
    """
    return await inventories().find_one_and_update(
        {"_id": product_id, "dealer_id": dealer_id, "reserved_count": {"$lte": quantity}},
        [{"$set": {
            "quantity": quantity,
            "available": {"$subtract": [quantity, "$reserved_count"]},
            "updated_at": clock.utcnow(),
        }}],
        return_document=ReturnDocument.BEFORE,
        session=session,
    )


async def reserve(session: Session | None, product_id: str, quantity: int) -> bool:
    result = await inventories().update_one(
        {"_id": product_id, "available": {"$gte": quantity}},
        {"$inc": {"available": -quantity, "reserved_count": quantity},
         "$set": {"updated_at": clock.utcnow()}},
        session=session,
    )
    return result.modified_count == 1


async def release(session: Session | None, product_id: str, quantity: int) -> bool:
    result = await inventories().update_one(
        {"_id": product_id, "reserved_count": {"$gte": quantity}},
        {"$inc": {"available": quantity, "reserved_count": -quantity},
         "$set": {"updated_at": clock.utcnow()}},
        session=session,
    )
    return result.modified_count == 1


async def commit(session: Session | None, product_id: str, quantity: int) -> bool:
    result = await inventories().update_one(
        {"_id": product_id, "reserved_count": {"$gte": quantity},
         "quantity": {"$gte": quantity}},
        {"$inc": {"quantity": -quantity, "reserved_count": -quantity},
         "$set": {"updated_at": clock.utcnow()}},
        session=session,
    )
    return result.modified_count == 1


async def restock(session: Session | None, product_id: str, quantity: int) -> bool:
    result = await inventories().update_one(
        {"_id": product_id},
        {"$inc": {"quantity": quantity, "available": quantity},
         "$set": {"updated_at": clock.utcnow()}},
        session=session,
    )
    return result.modified_count == 1


async def reserved_untouched_since(
    before: datetime, limit: int, after_id: str | None = None
) -> list[dict[str, Any]]:
    """Inventory holding reserved units whose stock no write has touched since `before`, in
    `_id` order after `after_id`: `_id`, `reserved_count`, `available`, `updated_at`."""
    query: dict[str, Any] = {"reserved_count": {"$gt": 0}, "updated_at": {"$lte": before}}
    if after_id is not None:
        query["_id"] = {"$gt": after_id}
    cursor = inventories().find(
        query, {"reserved_count": 1, "available": 1, "updated_at": 1}
    ).sort("_id", ASCENDING).limit(limit)
    return await cursor.to_list()


async def release_unheld(
    session: Session, product_id: str, reserved: int, touched_at: datetime, units: int
) -> bool:
    """Release `units` reserved units only while the stock is exactly as read (`reserved`,
    last touched at `touched_at`): any reservation, release or sale since then refuses it."""
    result = await inventories().update_one(
        {"_id": product_id, "reserved_count": reserved, "updated_at": touched_at},
        {"$inc": {"available": units, "reserved_count": -units},
         "$set": {"updated_at": clock.utcnow()}},
        session=session,
    )
    return result.modified_count == 1
