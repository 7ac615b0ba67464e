"""Every query on the products and inventory collections.

Reads of products take the `Viewer` and return only what it may see: listed products
(active, of a selling dealer) for everyone, every status for the dealer itself and admins.
"""

import contextlib
from dataclasses import dataclass
from typing import Any

from pymongo import DESCENDING, ReturnDocument
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
from app.core.pagination import PageRequest, decode_cursor, encode_cursor

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
