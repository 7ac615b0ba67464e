"""Every query on the orders collection (each one served by an index of models.Order).

Reads that return orders take the actor and return only what it may see; the system's own
reads (jobs, other domains' services) pass `SYSTEM_ACTOR` explicitly. The jobs' scans
(`due_for_expiry`, `shipped_before`) are system reads by nature.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from app.core import clock
from app.core.database import Session
from app.core.pagination import PageRequest, match, paginate
from app.core.permissions import Actor, Permission
from app.core.policy import Owners, may_see, sees_all, visibility_filter
from app.core.queues import QueuePosition, Waiting, oldest_waiting
from app.orders.models import (
    ORDER_OWNERS,
    Channel,
    Order,
    OrderStatus,
    StatusChange,
    StockState,
)
from app.orders.transitions import SOLD

READ_ALL = Permission.ORDERS_READ_ALL


def _collection() -> AsyncCollection:
    return Order.get_pymongo_collection()


async def get_visible(
    actor: Actor, order_id: str, session: Session | None = None
) -> Order | None:
    """The order if `actor` may see it (its buyer, its dealer, a read-all admin, the system)."""
    doc = await _collection().find_one({"_id": order_id}, session=session)
    order = Order.model_validate(doc) if doc else None
    if order is None or not may_see(actor, order.owners, READ_ALL):
        return None
    return order


async def insert(session: Session, order: Order) -> None:
    await order.insert(session=session)


async def move(
    session: Session,
    order: Order,
    changes: dict[str, Any],
    entry: StatusChange,
    extra_filter: dict[str, Any] | None = None,
) -> Order | None:
    """Apply a transition only if the order is still in the state and version it was read in."""
    doc = await _collection().find_one_and_update(
        {"_id": order.id, "status": order.status.value, "version": order.version,
         **(extra_filter or {})},
        {"$set": {**changes, "updated_at": clock.utcnow()},
         "$inc": {"version": 1},
         "$push": {"status_history": entry.model_dump(mode="python")}},
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    return Order.model_validate(doc) if doc else None


async def sell_reserved_stock(session: Session, order_id: str) -> list[tuple[str, int]] | None:
    """reserved → committed on a paid (not cancelled) order still holding its reservation;
    its lines as (product id, quantity), or None when there was nothing to commit.

    The version stays: no one acting on the order is refused for this; the moves that change
    the stock state are guarded on it (`lifecycle.apply_move`)."""
    doc = await _collection().find_one_and_update(
        {"_id": order_id, "stock_state": StockState.RESERVED.value,
         "status": {"$in": [status.value for status in SOLD]}},
        {"$set": {"stock_state": StockState.COMMITTED.value, "updated_at": clock.utcnow()}},
        projection={"items.product_id": 1, "items.quantity": 1},
        session=session,
    )
    if doc is None:
        return None
    return [(item["product_id"], item["quantity"]) for item in doc["items"]]


async def sold_holding_reserved_stock(before: datetime, limit: int) -> list[str]:
    """Paid orders whose reserved stock is still to be committed, untouched since `before`
    (a crash between the capture and `commit_sold_stock`)."""
    cursor = _collection().find(
        {"stock_state": StockState.RESERVED.value,
         "status": {"$in": [status.value for status in SOLD]},
         "updated_at": {"$lt": before}},
        {"_id": 1},
    ).limit(limit)
    return [doc["_id"] for doc in await cursor.to_list()]


async def extend_reservation(session: Session | None, order_id: str, until: datetime) -> Order | None:
    """Push a pending order's reservation out to `until` (never pull it in)."""
    doc = await _collection().find_one_and_update(
        {"_id": order_id, "status": OrderStatus.PENDING_PAYMENT.value},
        {"$max": {"reservation_expires_at": until}, "$set": {"updated_at": clock.utcnow()}},
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    return Order.model_validate(doc) if doc else None


async def unpaid_slots(buyer_id: str) -> set[int]:
    """The places among MAX_UNPAID_ORDERS_PER_CUSTOMER the buyer's unpaid orders hold."""
    cursor = _collection().find(
        {"buyer_id": buyer_id, "unpaid_slot": {"$type": "int"}}, {"unpaid_slot": 1}
    )
    return {int(doc["unpaid_slot"]) for doc in await cursor.to_list()}


async def shipped_before(cutoff: datetime, limit: int) -> list[Order]:
    cursor = _collection().find(
        {"status": OrderStatus.SHIPPED.value, "shipped_at": {"$lt": cutoff}}
    ).sort("shipped_at", 1).limit(limit)
    return [Order.model_validate(doc) for doc in await cursor.to_list()]


async def due_for_expiry(now: datetime, limit: int) -> list[Order]:
    cursor = (
        _collection()
        .find({"status": OrderStatus.PENDING_PAYMENT.value, "reservation_expires_at": {"$lt": now}})
        .sort("reservation_expires_at", ASCENDING)
        .limit(limit)
    )
    return [Order.model_validate(doc) for doc in await cursor.to_list()]


async def reserved_units(product_ids: list[str]) -> dict[str, int]:
    """Units of each product that orders holding a stock reservation hold."""
    if not product_ids:
        return {}
    wanted = {"$in": product_ids}
    pipeline: list[dict[str, Any]] = [
        {"$match": {"stock_state": StockState.RESERVED.value, "items.product_id": wanted}},
        {"$unwind": "$items"},
        {"$match": {"items.product_id": wanted}},
        {"$group": {"_id": "$items.product_id", "units": {"$sum": "$items.quantity"}}},
    ]
    docs = await (await _collection().aggregate(pipeline)).to_list()
    return {doc["_id"]: doc["units"] for doc in docs}


@dataclass(frozen=True)
class OrderFilter:
    status: OrderStatus | None = None
    buyer_id: str | None = None
    dealer_id: str | None = None
    channel: Channel | None = None
    since: datetime | None = None
    until: datetime | None = None
    # Any of these dealers / statuses (the admins' queue of stopped dealers' orders).
    dealer_ids: tuple[str, ...] | None = None
    statuses: tuple[OrderStatus, ...] | None = None

    def query(self) -> dict[str, Any]:
        equals = {"buyer_id": self.buyer_id, "dealer_id": self.dealer_id,
                  "status": self.status, "channel": self.channel}
        query = match(equals, "created_at", self.since, self.until)
        if self.dealer_ids is not None and "dealer_id" not in query:
            query["dealer_id"] = {"$in": list(self.dealer_ids)}
        if self.statuses is not None and "status" not in query:
            query["status"] = {"$in": [status.value for status in self.statuses]}
        return query


async def list_visible(
    actor: Actor, filters: OrderFilter, page: PageRequest
) -> tuple[list[Order], str | None]:
    """The orders matching `filters` that `actor` may see, newest first; keyset-paginated on
    (created_at, _id)."""
    query = _both(filters.query(), visibility_filter(actor, ORDER_OWNERS, READ_ALL))
    docs, next_cursor = await paginate(_collection(), query, page)
    return [Order.model_validate(doc) for doc in docs], next_cursor


async def dealer_status_counts(actor: Actor, dealer_id: str) -> dict[str, int]:
    """A dealer's orders counted per status: one aggregation over the `by_dealer` index
    (nothing unless `actor` sees the dealer's orders: the dealer itself, read-all admins)."""
    if not may_see(actor, Owners(dealer_id=dealer_id), READ_ALL):
        return {}
    pipeline = [{"$match": {"dealer_id": dealer_id}},
                {"$group": {"_id": "$status", "count": {"$sum": 1}}}]
    rows = await (await _collection().aggregate(pipeline)).to_list()
    return {row["_id"]: int(row["count"]) for row in rows}


async def dealer_sales_since(actor: Actor, dealer_id: str, since: datetime) -> int:
    """The total of a dealer's orders placed since `since` and paid (cancelled or expired ones
    left out): one aggregation over the `by_dealer` index's (dealer, created_at) range."""
    if not may_see(actor, Owners(dealer_id=dealer_id), READ_ALL):
        return 0
    query = {"dealer_id": dealer_id, "created_at": {"$gte": since},
             "status": {"$in": [status.value for status in SOLD]}}
    pipeline = [{"$match": query}, {"$group": {"_id": None, "total": {"$sum": "$total"}}}]
    rows = await (await _collection().aggregate(pipeline)).to_list()
    return int(rows[0]["total"]) if rows else 0


def _both(query: dict[str, Any], visible: dict[str, Any]) -> dict[str, Any]:
    # One flat filter keeps the equality fields at the top, where an index can serve them.
    if all(query.get(name, value) == value for name, value in visible.items()):
        return {**query, **visible}
    return {"$and": [query, visible]}


@dataclass(frozen=True)
class PlacementCounts:
    """Orders placed in a window by an account, a device and an address (None: not known)."""

    account: int
    device: int | None
    ip: int | None


async def placement_counts(
    buyer_id: str, device_id: str | None, ip: str | None, since: datetime
) -> PlacementCounts:
    """ORDER_VELOCITY's inputs at checkout in one aggregation: each branch of the `$or` is
    served by its own index (by_buyer, by_placing_device, by_placing_ip)."""
    recent = {"$gte": since}
    branches: list[tuple[str, str, str | None]] = [
        ("account", "buyer_id", buyer_id), ("device", "placed_device_id", device_id),
        ("ip", "placed_ip", ip)]
    known = [(name, field, value) for name, field, value in branches if value]
    pipeline: list[dict[str, Any]] = [
        {"$match": {"$or": [{field: value, "created_at": recent} for _, field, value in known]}},
        {"$group": {"_id": None, **{
            name: {"$sum": {"$cond": [{"$eq": [f"${field}", value]}, 1, 0]}}
            for name, field, value in known}}},
    ]
    docs = await (await _collection().aggregate(pipeline)).to_list()
    counts = docs[0] if docs else {}
    return PlacementCounts(
        account=int(counts.get("account", 0)),
        device=int(counts.get("device", 0)) if device_id else None,
        ip=int(counts.get("ip", 0)) if ip else None,
    )


async def has_ordered(buyer_id: str) -> bool:
    """Whether the buyer ever placed an order (by_buyer, one key)."""
    return await _collection().find_one({"buyer_id": buyer_id}, {"_id": 1}) is not None


_ON_REVIEW = {"status": OrderStatus.ON_REVIEW.value}


async def on_review(actor: Actor, after: QueuePosition | None, limit: int) -> list[Waiting]:
    """Orders the fraud checks hold, oldest placement first (the `by_status` index)."""
    if not sees_all(actor, Permission.GOVERNANCE_READ):
        return []
    return await oldest_waiting(_collection(), _ON_REVIEW, "created_at", after, limit)


async def count_on_review(actor: Actor) -> int:
    if not sees_all(actor, Permission.GOVERNANCE_READ):
        return 0
    return await _collection().count_documents(_ON_REVIEW)
