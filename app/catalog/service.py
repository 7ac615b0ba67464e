"""The catalogue: listing rules, moderation, browsing, and the stock contract orders rely on.

Stock functions for other domains (`reserve_stock`, `release_stock`, `commit_stock`) each
make ONE atomic conditional update of the product's inventory document, never a read then a
write; pass the caller's session so they join its transaction.
"""

import logging
from dataclasses import dataclass
from typing import Any

from pymongo.errors import DuplicateKeyError

from app.audit import service as audit
from app.catalog import pricing, repository, search
from app.catalog.access import ANONYMOUS, Viewer
from app.catalog.categories import ProductCategory
from app.catalog.exceptions import (
    DealerNotFound,
    DuplicateListing,
    IllegalProductTransition,
    ModerationOnly,
    ProductChanged,
    ProductNotFound,
    SkuTaken,
    StockNotReserved,
)
from app.catalog.models import Inventory, PriceChange, Product, ProductStatus
from app.catalog.repository import ProductWithStock
from app.catalog.schemas import PriceChangeRead, ProductCreate, ProductRead, ProductSort, ProductUpdate
from app.core.database import Session, transaction
from app.core.errors import Forbidden, RuleViolation
from app.core.pagination import PageRequest
from app.core.permissions import Actor, Permission, Role
from app.dealers import service as dealers_service

log = logging.getLogger(__name__)

# Status moves, by who makes them. Archiving (DELETE) is separate: any status but archived.
OWNER_MOVES: dict[ProductStatus, set[ProductStatus]] = {
    ProductStatus.ACTIVE: {ProductStatus.INACTIVE},
    ProductStatus.INACTIVE: {ProductStatus.ACTIVE},
    ProductStatus.PAUSED: set(),
    ProductStatus.ARCHIVED: set(),
}
MODERATOR_MOVES: dict[ProductStatus, set[ProductStatus]] = {
    ProductStatus.ACTIVE: {ProductStatus.PAUSED},
    ProductStatus.INACTIVE: {ProductStatus.PAUSED},
    ProductStatus.PAUSED: {ProductStatus.ACTIVE, ProductStatus.INACTIVE},
    ProductStatus.ARCHIVED: set(),
}
LISTING_FIELDS = ("title", "description", "compatible_models", "min_b2b_quantity")
PRICE_FIELDS = ("b2b_price", "b2c_price", "mrp")


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
    stock = await repository.find_inventories([product.id for product in found])
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
    return await repository.reserve(session, product_id, _units(quantity))


async def release_stock(session: Session | None, product_id: str, quantity: int) -> None:
    """Return reserved units to available; never takes reserved below zero (then logs)."""
    if not await repository.release(session, product_id, _units(quantity)):
        log.warning(
            "release of more stock than is reserved ignored",
            extra={"productId": product_id, "quantity": quantity},
        )


async def commit_stock(session: Session | None, product_id: str, quantity: int) -> None:
    """A paid sale: quantity and reserved both drop by `quantity` (available is unchanged).

    Raises StockNotReserved (409) when fewer units are reserved, so the caller's
    transaction aborts instead of selling stock that was never held.
    """
    if not await repository.commit(session, product_id, _units(quantity)):
        raise StockNotReserved(data={"productId": product_id, "quantity": quantity})


async def return_stock(session: Session | None, product_id: str, quantity: int) -> None:
    """Sold units come back (a paid order was cancelled before shipping): quantity and
    available both rise by `quantity`."""
    await repository.restock(session, product_id, _units(quantity))


async def set_dealer_listing_visibility(
    session: Session | None, dealer_id: str, listed: bool
) -> int:
    """Show or hide every product of a dealer at once (approval, suspension, block)."""
    return await repository.set_dealer_listed(session, dealer_id, listed)


async def viewer_of(actor: Actor | None) -> Viewer:
    if actor is None:
        return ANONYMOUS
    return Viewer(actor=actor, dealer_id=await dealers_service.dealer_id_of(actor))


# --- presenting products --------------------------------------------------------------


def present(viewer: Viewer, item: ProductWithStock, with_history: bool = True) -> ProductRead:
    """The product as `viewer` may see it: trade prices and internals only when allowed."""
    product = item.product
    trade, manages = viewer.sees_trade_prices(product), viewer.manages(product)
    return ProductRead(
        id=product.id, dealer_id=product.dealer_id, sku=product.sku, title=product.title,
        brand=product.brand, category=product.category,
        compatible_models=product.compatible_models, description=product.description,
        b2c_price=product.b2c_price, mrp=product.mrp,
        b2b_price=product.b2b_price if trade else None,
        min_b2b_quantity=product.min_b2b_quantity if trade else None,
        status=product.status, available=item.available, in_stock=item.available > 0,
        pause_reason=product.pause_reason if manages else None,
        price_history=[PriceChangeRead.model_validate(change) for change in product.price_history]
        if manages and with_history else None,
        version=product.version if manages else None,
        created_at=product.created_at, updated_at=product.updated_at,
    )


# --- reading --------------------------------------------------------------------------


async def get_product(actor: Actor | None, product_id: str) -> ProductRead:
    viewer = await viewer_of(actor)
    item = await repository.get_visible(viewer, product_id)
    if item is None:
        raise ProductNotFound
    return present(viewer, item)


@dataclass(frozen=True)
class BrowseFilters:
    q: str | None = None
    category: ProductCategory | None = None
    brand: str | None = None
    model: str | None = None
    dealer_id: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool = False
    sort: ProductSort = ProductSort.NEWEST


async def browse(
    actor: Actor | None, filters: BrowseFilters, page: PageRequest
) -> tuple[list[ProductRead], str | None]:
    """Listed products (active, of a selling dealer); prices filter/sort on the caller's channel."""
    if (filters.min_price is not None and filters.max_price is not None
            and filters.min_price > filters.max_price):
        raise RuleViolation("minPrice must not exceed maxPrice", {"errors": [
            {"field": "query.minPrice", "message": "must not exceed maxPrice"}]})
    viewer = await viewer_of(actor)
    query = repository.listed_query()
    if filters.category:
        query["category"] = filters.category.value
    if filters.brand:
        query["brand_key"] = search.normalise(filters.brand)
    if filters.model:
        query["model_keys"] = search.normalise(filters.model)
    if filters.dealer_id:
        query["dealer_id"] = filters.dealer_id
    price_range: dict[str, int] = {}
    if filters.min_price is not None:
        price_range["$gte"] = filters.min_price
    if filters.max_price is not None:
        price_range.update(repository.at_most(filters.max_price))
    if price_range:
        query[viewer.price_field] = price_range
    if clauses := search.query_clauses(filters.q):
        query["$and"] = clauses
    if filters.sort is ProductSort.NEWEST:
        order = repository.NEWEST
    else:
        order = repository.price_order(viewer.price_field, filters.sort is ProductSort.PRICE_DESC)
    found, next_cursor = await repository.page_products(query, order, page, filters.in_stock)
    return [present(viewer, item, with_history=False) for item in found], next_cursor


async def list_dealer_products(
    actor: Actor | None, dealer_id: str, status: ProductStatus | None, page: PageRequest
) -> tuple[list[ProductRead], str | None]:
    """A dealer's products: all but archived (or `status`) for the owner and admins,
    only listed ones for everyone else."""
    viewer = await viewer_of(actor)
    if viewer.is_admin or viewer.dealer_id == dealer_id:
        query: dict[str, Any] = {"dealer_id": dealer_id}
        query["status"] = status.value if status else {"$ne": ProductStatus.ARCHIVED.value}
    else:
        dealer = await dealers_service.get_dealer(dealer_id)
        if dealer is None or not dealers_service.is_selling(dealer):
            raise DealerNotFound
        if status not in (None, ProductStatus.ACTIVE):
            return [], None
        query = {"dealer_id": dealer_id, **repository.listed_query()}
    found, next_cursor = await repository.page_products(query, repository.NEWEST, page)
    return [present(viewer, item, with_history=False) for item in found], next_cursor


# --- listing a product ----------------------------------------------------------------


async def create_product(actor: Actor, data: ProductCreate) -> ProductRead:
    dealer = await dealers_service.require_selling_dealer(actor)
    prices = {"b2b_price": data.b2b_price, "b2c_price": data.b2c_price, "mrp": data.mrp}
    await pricing.check_prices(data.category, prices)
    product = Product(
        dealer_id=dealer.id, sku=data.sku, sku_key=search.sku_key(data.sku), title=data.title,
        brand=data.brand, category=data.category, compatible_models=data.compatible_models,
        description=data.description, **prices, min_b2b_quantity=data.min_b2b_quantity,
        dealer_listed=True, **_listing_keys(data.brand, data.title, data.compatible_models),
        price_history=[PriceChange(actor_id=actor.id, **prices)],
    )
    inventory = Inventory(
        id=product.id, product_id=product.id, dealer_id=dealer.id,
        quantity=data.stock, reserved_count=0, available=data.stock,
    )
    created = {
        "sku": product.sku, "title": product.title, "brand": product.brand,
        "category": product.category, "compatible_models": product.compatible_models,
        **prices, "min_b2b_quantity": product.min_b2b_quantity, "status": product.status,
        "stock": data.stock,
    }

    async def work(session: Session) -> None:
        await repository.insert_product(session, product, inventory)
        await audit.record(
            session, actor=actor, action="product.created", subject_type="product",
            subject_id=product.id, changes=audit.diff({}, created),
            metadata={"dealerId": dealer.id},
        )

    try:
        await transaction(work)
    except DuplicateKeyError as exc:
        raise _duplicate(exc) from None
    # The dealer may have been suspended between the check and the insert: its
    # hide-everything update would then have missed this product.
    current = await dealers_service.get_dealer(dealer.id)
    if current is None or not dealers_service.is_selling(current):
        await repository.set_dealer_listed(None, dealer.id, False)
        product.dealer_listed = False
    viewer = Viewer(actor=actor, dealer_id=dealer.id)
    return present(viewer, ProductWithStock(product, data.stock))


def _listing_keys(brand: str, title: str, models: list[str]) -> dict[str, Any]:
    return {
        "listing_key": search.listing_key(brand, title, models),
        "brand_key": search.normalise(brand),
        "model_keys": search.model_keys(models),
        "search_tokens": search.search_tokens(title, brand, models),
    }


def _duplicate(exc: DuplicateKeyError) -> Exception:
    details = exc.details or {}
    if "sku_key" in (details.get("keyPattern") or {}) or "sku_per_dealer" in str(exc):
        return SkuTaken()
    return DuplicateListing()


# --- changing a product ---------------------------------------------------------------


async def _managed_product(actor: Actor, product_id: str) -> tuple[Viewer, ProductWithStock]:
    """The product, if `actor` is its dealer (with write rights) or a moderating admin."""
    if actor.is_admin:
        if not actor.can(Permission.PRODUCTS_MODERATE):
            raise Forbidden(f"Your role does not allow this ({Permission.PRODUCTS_MODERATE.value})")
    elif actor.role is Role.DEALER:
        if not actor.can(Permission.PRODUCTS_WRITE):
            raise Forbidden("Your account is awaiting admin approval")
    else:
        raise Forbidden(f"Your role does not allow this ({Permission.PRODUCTS_WRITE.value})")
    viewer = await viewer_of(actor)
    item = await repository.get_visible(viewer, product_id)
    if item is None or not viewer.manages(item.product):
        raise ProductNotFound
    return viewer, item


@dataclass
class _Change:
    """What one PATCH does: the fields to write and one audit entry per kind of change."""

    set_fields: dict[str, Any]
    unset_fields: tuple[str, ...] = ()
    price_change: dict[str, Any] | None = None
    audits: list[tuple[str, dict[str, Any], str | None]] | None = None


async def update_product(actor: Actor, product_id: str, data: ProductUpdate) -> ProductRead:
    viewer, item = await _managed_product(actor, product_id)
    product = item.product
    requested = data.changes()
    if not requested:
        raise RuleViolation("Nothing to change", {"errors": [
            {"field": "body", "message": "send at least one field to change"}]})
    if product.status is ProductStatus.ARCHIVED:
        raise IllegalProductTransition("An archived product cannot change",
                                       {"from": product.status, "allowed": []})
    if actor.is_admin:
        change = _moderation(product, requested, data.reason)
    else:
        change = await _owner_edit(actor, product, requested, data.reason)
    if not change.audits:
        return present(viewer, item)

    async def work(session: Session) -> None:
        if not await repository.update_product(
            session, product, change.set_fields, change.unset_fields, change.price_change
        ):
            raise ProductChanged
        for action, changes, reason in change.audits or []:
            await audit.record(
                session, actor=actor, action=action, subject_type="product",
                subject_id=product.id, changes=changes, reason=reason,
                metadata={"dealerId": product.dealer_id},
            )

    try:
        await transaction(work)
    except DuplicateKeyError:
        raise DuplicateListing from None
    updated = await repository.get_visible(viewer, product_id)
    if updated is None:
        raise ProductNotFound
    return present(viewer, updated)


def _moderation(product: Product, requested: dict[str, Any], reason: str | None) -> _Change:
    if set(requested) != {"status"}:
        raise ModerationOnly
    target = ProductStatus(requested["status"])
    allowed = MODERATOR_MOVES[product.status]
    if target not in allowed:
        raise IllegalProductTransition(
            f"An admin cannot move a product from {product.status} to {target}",
            {"from": product.status, "allowed": sorted(allowed)},
        )
    if target is ProductStatus.PAUSED and not reason:
        raise RuleViolation("A reason is required to pause a product", {"errors": [
            {"field": "body.reason", "message": "required to pause"}]})
    pausing = target is ProductStatus.PAUSED
    set_fields = {"status": target.value, "pause_reason": reason if pausing else None}
    changes = audit.diff({"status": product.status}, {"status": target})
    return _Change(set_fields, audits=[("product.status_changed", changes, reason)])


async def _owner_edit(
    actor: Actor, product: Product, requested: dict[str, Any], reason: str | None
) -> _Change:
    set_fields: dict[str, Any] = {}
    audits: list[tuple[str, dict[str, Any], str | None]] = []
    price_change = None

    if "status" in requested:
        target = ProductStatus(requested["status"])
        if target is ProductStatus.PAUSED:
            raise Forbidden("Only an admin may pause a product")
        if product.status is ProductStatus.PAUSED:
            raise Forbidden("Only an admin may lift a pause")
        if target is not product.status:
            if target not in OWNER_MOVES[product.status]:
                raise IllegalProductTransition(
                    f"Cannot move a product from {product.status} to {target}",
                    {"from": product.status, "allowed": sorted(OWNER_MOVES[product.status])},
                )
            set_fields["status"] = target.value
            audits.append(("product.status_changed",
                           audit.diff({"status": product.status}, {"status": target}), reason))

    before = {name: getattr(product, name) for name in LISTING_FIELDS}
    after = {**before, **{name: requested[name] for name in LISTING_FIELDS if name in requested}}
    edited = audit.diff(before, after)
    if edited:
        set_fields.update({name: after[name] for name in edited})
        if {"title", "compatible_models"} & set(edited):
            set_fields.update(
                _listing_keys(product.brand, after["title"], after["compatible_models"])
            )
        audits.append(("product.updated", edited, reason))

    old_prices = {name: getattr(product, name) for name in PRICE_FIELDS}
    new_prices = {**old_prices,
                  **{name: requested[name] for name in PRICE_FIELDS if name in requested}}
    repriced = audit.diff(old_prices, new_prices)
    if repriced:
        await pricing.check_prices(product.category, new_prices)
        set_fields.update(new_prices)
        price_change = PriceChange(actor_id=actor.id, **new_prices).model_dump()
        audits.append(("product.price_changed", repriced, reason))
    return _Change(set_fields, price_change=price_change, audits=audits)


async def archive_product(actor: Actor, product_id: str, reason: str | None) -> ProductRead:
    """Archive (never delete: orders keep referring to it); frees its SKU and listing key."""
    viewer, item = await _managed_product(actor, product_id)
    product = item.product
    if product.status is ProductStatus.ARCHIVED:
        raise IllegalProductTransition("The product is already archived",
                                       {"from": product.status, "allowed": []})

    async def work(session: Session) -> None:
        if not await repository.update_product(
            session, product, {"status": ProductStatus.ARCHIVED.value},
            unset_fields=("sku_key", "listing_key"),
        ):
            raise ProductChanged
        await audit.record(
            session, actor=actor, action="product.archived", subject_type="product",
            subject_id=product.id,
            changes=audit.diff({"status": product.status}, {"status": ProductStatus.ARCHIVED}),
            reason=reason, metadata={"dealerId": product.dealer_id},
        )

    await transaction(work)
    archived = await repository.get_visible(viewer, product_id)
    if archived is None:
        raise ProductNotFound
    return present(viewer, archived)
