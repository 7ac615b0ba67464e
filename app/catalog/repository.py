"""Every query on the products and inventory collections.

Reads of products take the `Viewer` and return only what it may see: listed products
(active, of a selling dealer) for everyone, every status for the dealer itself and admins.
"""

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from app.catalog.access import Viewer
from app.catalog.models import (
    CATALOG_STATE_ID,
    PRICE_HISTORY_KEPT,
    CatalogState,
    Inventory,
    Product,
    ProductStatus,
    ProductWithStock,
)
from app.core import clock
from app.core.database import Session
from app.core.pagination import PageRequest, decode_cursor, encode_cursor, paginate

LIST_PROJECTION = {"price_history": 0}
_INVENTORY = "_inventory"


def products() -> AsyncCollection:
    return Product.get_pymongo_collection()


def inventories() -> AsyncCollection:
    return Inventory.get_pymongo_collection()


# --- products -------------------------------------------------------------------------


async def insert_product(session: Session, product: Product, inventory: Inventory) -> None:
    product.catalog_version = await bump_catalog_version(session)
    await product.insert(session=session)
    await inventory.insert(session=session)


async def get_visible(viewer: Viewer, product_id: str) -> ProductWithStock | None:
    """The product with its stock if `viewer` may see it: listed, or theirs, or an admin."""
    found = await _with_stock([{"$match": {"_id": product_id}}, {"$limit": 1}])
    if not found or not viewer.may_see(found[0].product):
        return None
    return found[0]


async def find_products(product_ids: list[str]) -> list[Product]:
    """System scope: products by id, any status (for the stock contract other domains use)."""
    docs = await products().find({"_id": {"$in": product_ids}}, LIST_PROJECTION).to_list()
    return [Product.model_validate(doc) for doc in docs]


async def update_product(
    session: Session,
    product: Product,
    set_fields: dict[str, Any],
    unset_fields: tuple[str, ...] = (),
    price_change: dict[str, Any] | None = None,
) -> bool:
    """Apply the change only if the product is still at the version (and status) read."""
    version = await bump_catalog_version(session)
    update: dict[str, Any] = {
        "$set": {**set_fields, "updated_at": clock.utcnow(), "catalog_version": version},
        "$inc": {"version": 1},
    }
    if unset_fields:
        update["$unset"] = {name: "" for name in unset_fields}
    if price_change:
        update["$push"] = {
            "price_history": {"$each": [price_change], "$slice": -PRICE_HISTORY_KEPT}
        }
    result = await products().update_one(
        {"_id": product.id, "version": product.version, "status": product.status.value},
        update,
        session=session,
    )
    return result.modified_count == 1


async def set_dealer_listed(session: Session, dealer_id: str, listed: bool) -> int:
    """Show or hide a dealer's products; in a transaction (the version bump goes with it)."""
    version = await bump_catalog_version(session)
    result = await products().update_many(
        {"dealer_id": dealer_id, "dealer_listed": {"$ne": listed}},
        {"$set": {"dealer_listed": listed, "updated_at": clock.utcnow(),
                  "catalog_version": version}},
        session=session,
    )
    return result.modified_count


# --- the catalogue version and the browse read model -----------------------------------


def catalog_state() -> AsyncCollection:
    return CatalogState.get_pymongo_collection()


async def bump_catalog_version(session: Session) -> int:
    """The next catalogue version, taken in the caller's transaction (see CatalogState)."""
    doc = await catalog_state().find_one_and_update(
        {"_id": CATALOG_STATE_ID}, {"$inc": {"version": 1}}, upsert=True,
        return_document=ReturnDocument.AFTER, session=session,
    )
    return int(doc["version"])


async def ensure_catalog_state() -> None:
    """Create the version document once, outside any transaction (so that concurrent first
    bumps in transactions never race to insert it)."""
    with contextlib.suppress(DuplicateKeyError):  # another process created it just now
        await catalog_state().update_one(
            {"_id": CATALOG_STATE_ID}, {"$setOnInsert": {"version": 0}}, upsert=True
        )


async def catalog_version() -> int:
    doc = await catalog_state().find_one({"_id": CATALOG_STATE_ID})
    return int(doc["version"]) if doc else 0


async def listed_products() -> list[dict[str, Any]]:
    """Every listed product (what a browse read model starts from), without price history."""
    return await products().find(listed_query(), LIST_PROJECTION).to_list()


async def products_changed_since(version: int) -> list[dict[str, Any]]:
    """Products stamped after catalogue `version`, any status (an indexed range)."""
    return await products().find(
        {"catalog_version": {"$gt": version}}, LIST_PROJECTION
    ).to_list()


async def stock_and_version(product_ids: list[str]) -> tuple[dict[str, int], int]:
    """Available stock of `product_ids` and the catalogue version, in ONE command."""
    pipeline: list[dict[str, Any]] = [
        {"$match": {"_id": {"$in": product_ids}}},
        {"$project": {"available": 1}},
        {"$unionWith": {"coll": catalog_state().name, "pipeline": [
            {"$match": {"_id": CATALOG_STATE_ID}}, {"$project": {"version": 1}}]}},
    ]
    docs = await (await inventories().aggregate(pipeline)).to_list()
    stock, version = {}, 0
    for doc in docs:
        if "version" in doc:
            version = int(doc["version"])
        else:
            stock[doc["_id"]] = int(doc.get("available", 0))
    return stock, version


# --- product pages (keyset over one sort field + _id, with stock joined) ---------------


@dataclass(frozen=True)
class SortOrder:
    name: str
    field: str
    direction: int


async def page_products(
    query: dict[str, Any], order: SortOrder, page: PageRequest, in_stock_only: bool = False
) -> tuple[list[ProductWithStock], str | None]:
    """One page of products matching `query` with their stock, and the next page's cursor.

    One aggregation: match (indexed) → sort → join inventory → limit. With `in_stock_only`
    the join comes before the limit so that out-of-stock products do not shorten the page.
    """
    if page.cursor:
        value, last_id = decode_cursor(page.cursor, sort=order.name)
        op = "$lt" if order.direction == DESCENDING else "$gt"
        query = {"$and": [query, {"$or": [
            {order.field: {op: value}}, {order.field: value, "_id": {op: last_id}},
        ]}]}
    pipeline: list[dict[str, Any]] = [
        {"$match": query},
        {"$sort": {order.field: order.direction, "_id": order.direction}},
        {"$project": LIST_PROJECTION},
    ]
    join = _join_inventory()
    if in_stock_only:
        pipeline += [join, {"$match": {f"{_INVENTORY}.available": {"$gte": 1}}},
                     {"$limit": page.limit + 1}]
    else:
        pipeline += [{"$limit": page.limit + 1}, join]
    found = await _with_stock(pipeline)
    if len(found) <= page.limit:
        return found, None
    found = found[: page.limit]
    last = found[-1].product
    return found, encode_cursor(getattr(last, order.field), last.id, sort=order.name)


def _join_inventory() -> dict[str, Any]:
    return {"$lookup": {
        "from": Inventory.get_pymongo_collection().name, "localField": "_id",
        "foreignField": "_id", "as": _INVENTORY,
    }}


async def _with_stock(pipeline: list[dict[str, Any]]) -> list[ProductWithStock]:
    if not any("$lookup" in stage for stage in pipeline):
        pipeline = [*pipeline, _join_inventory()]
    docs = await (await products().aggregate(pipeline)).to_list()
    found = []
    for doc in docs:
        stock = doc.pop(_INVENTORY, None) or [{}]
        found.append(ProductWithStock(Product.model_validate(doc), stock[0].get("available", 0)))
    return found


NEWEST = SortOrder("newest", "created_at", DESCENDING)


async def page_dealer_products(
    viewer: Viewer, dealer_id: str, status: ProductStatus | None, page: PageRequest
) -> tuple[list[ProductWithStock], str | None]:
    """A dealer's products, newest first, as `viewer` may see them: every status but
    archived (or `status`) for the dealer and admins, only listed ones for everyone else."""
    query: dict[str, Any] = {"dealer_id": dealer_id}
    if viewer.manages_dealer(dealer_id):
        query["status"] = status.value if status else {"$ne": ProductStatus.ARCHIVED.value}
    elif status in (None, ProductStatus.ACTIVE):
        query.update(listed_query())
    else:
        return [], None
    return await page_products(query, NEWEST, page)


# --- inventory -------------------------------------------------------------------------


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


def at_most(limit: int) -> dict[str, int]:
    """`<= limit` for an integer field, written as `< limit + 1`.

    SecantusDB 0.7.0b3 drops the documents equal to a `$lte` bound when the field sits
    between an equality prefix and further fields of a compound index (as prices do in the
    browse indexes); an exclusive bound is answered correctly, and on MongoDB as well.
    """
    return {"$lt": limit + 1}


def listed_query() -> dict[str, Any]:
    return {"status": ProductStatus.ACTIVE.value, "dealer_listed": True}


async def category_price_median(category: str, excluding: str | None = None) -> tuple[int | None, int]:
    """The median B2C price of a category's active listings (but `excluding`) and how many
    there are: one aggregation over the `by_category` index."""
    query: dict[str, Any] = {"category": category, "status": ProductStatus.ACTIVE.value}
    if excluding is not None:
        query["_id"] = {"$ne": excluding}
    pipeline: list[dict[str, Any]] = [
        {"$match": query},
        {"$group": {"_id": None, "prices": {"$push": "$b2c_price"}}},
    ]
    docs = await (await products().aggregate(pipeline)).to_list()
    prices = sorted(docs[0]["prices"]) if docs else []
    if not prices:
        return None, 0
    middle = len(prices) // 2
    median = prices[middle] if len(prices) % 2 else (prices[middle - 1] + prices[middle]) // 2
    return median, len(prices)
