"""Listing a product and changing it: the dealer creates, edits, (de)activates and archives
its listings; a moderating admin pauses a product or lifts a pause (and may archive it).

Status moves follow the table in `transitions.py`; prices the rules in `pricing.py`.
"""

from dataclasses import dataclass, field
from typing import Any

from pymongo.errors import DuplicateKeyError

from app.audit import service as audit
from app.catalog import pricing, repository, search
from app.catalog.access import Viewer, present
from app.catalog.exceptions import (
    DuplicateListing,
    IllegalProductTransition,
    ModerationOnly,
    ProductChanged,
    ProductNotFound,
    SkuTaken,
)
from app.catalog.models import Inventory, PriceChange, Product, ProductStatus, ProductWithStock
from app.catalog.schemas import ProductCreate, ProductRead, ProductUpdate
from app.catalog.transitions import Mover, allowed_targets
from app.core.database import Session, transaction
from app.core.errors import Forbidden, RuleViolation
from app.core.permissions import Actor, Permission, Role
from app.dealers import service as dealers_service
from app.risk import rules as risk_rules
from app.risk import service as risk
from app.risk.models import Assessment, RiskEvent

LISTING_FIELDS = ("title", "description", "compatible_models", "min_b2b_quantity")
PRICE_FIELDS = ("b2b_price", "b2c_price", "mrp")

Audit = tuple[str, dict[str, Any], str | None]  # (action, changes, reason)


# --- listing a product ----------------------------------------------------------------


async def create_product(actor: Actor, data: ProductCreate) -> ProductRead:
    dealer = await dealers_service.require_selling_dealer(actor)
    prices = {"b2b_price": data.b2b_price, "b2c_price": data.b2c_price, "mrp": data.mrp}
    await pricing.check_prices(data.category, prices)
    assessment = await _screen_price(data.category, data.b2c_price)
    held = _moderation_hold(assessment)
    product = Product(
        dealer_id=dealer.id, sku=data.sku, sku_key=search.sku_key(data.sku), title=data.title,
        brand=data.brand, category=data.category, compatible_models=data.compatible_models,
        description=data.description, **prices, min_b2b_quantity=data.min_b2b_quantity,
        dealer_listed=True, **_listing_keys(data.brand, data.title, data.compatible_models),
        price_history=[PriceChange(actor_id=actor.id, **prices)],
        **held,
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
        await risk.record(session, actor, assessment, "product", product.id, product.status.value)

    try:
        await transaction(work)
    except DuplicateKeyError as exc:
        raise _duplicate(exc) from None
    # The dealer may have been suspended between the check and the insert: its
    # hide-everything update would then have missed this product.
    if not dealers_service.is_selling(await dealers_service.get_dealer(dealer.id)):
        await transaction(lambda session: repository.set_dealer_listed(session, dealer.id, False))
        product.dealer_listed = False
    return present(Viewer(actor), ProductWithStock(product, data.stock))


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
    viewer = Viewer(actor)
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
    audits: list[Audit] = field(default_factory=list)
    assessment: Assessment | None = None


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
        await dealers_service.require_selling(product.dealer_id)
        change = await _owner_edit(actor, product, requested, data.reason)
    if not change.audits:
        return present(viewer, item)

    async def work(session: Session) -> None:
        if not await repository.update_product(
            session, product, change.set_fields, change.unset_fields, change.price_change
        ):
            raise ProductChanged
        for action, changes, reason in change.audits:
            await audit.record(
                session, actor=actor, action=action, subject_type="product",
                subject_id=product.id, changes=changes, reason=reason,
                metadata={"dealerId": product.dealer_id},
            )
        if change.assessment is not None:
            await risk.record(session, actor, change.assessment, "product", product.id,
                              change.set_fields.get("status", product.status))

    try:
        await transaction(work)
    except DuplicateKeyError:
        raise DuplicateListing from None
    updated = await repository.get_visible(viewer, product_id)
    if updated is None:
        raise ProductNotFound
    return present(viewer, updated)


def _moderation(product: Product, requested: dict[str, Any], reason: str | None) -> _Change:
    """An admin's PATCH: only a pause (with a reason) or lifting one."""
    if set(requested) != {"status"}:
        raise ModerationOnly
    target = ProductStatus(requested["status"])
    allowed = allowed_targets(product.status, Mover.MODERATOR)
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
    """The dealer's PATCH: its listing, its prices, and active ⇄ inactive."""
    set_fields: dict[str, Any] = {}
    audits: list[Audit] = []
    price_change = None

    if "status" in requested:
        target = ProductStatus(requested["status"])
        if target is ProductStatus.PAUSED:
            raise Forbidden("Only an admin may pause a product")
        if product.status is ProductStatus.PAUSED:
            raise Forbidden("Only an admin may lift a pause")
        if target is not product.status:
            allowed = allowed_targets(product.status, Mover.OWNER)
            if target not in allowed:
                raise IllegalProductTransition(
                    f"Cannot move a product from {product.status} to {target}",
                    {"from": product.status, "allowed": sorted(allowed)},
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
    assessment = None
    if repriced:
        await pricing.check_prices(product.category, new_prices)
        set_fields.update(new_prices)
        price_change = PriceChange(actor_id=actor.id, **new_prices).model_dump()
        audits.append(("product.price_changed", repriced, reason))
        if "b2c_price" in repriced and product.status is not ProductStatus.PAUSED:
            assessment = await _screen_price(product.category, new_prices["b2c_price"], product.id)
            if held := _moderation_hold(assessment):
                target = set_fields.get("status", product.status)
                set_fields.update(held)
                audits.append(("product.status_changed",
                               audit.diff({"status": target}, {"status": ProductStatus.PAUSED}),
                               held["pause_reason"]))
    return _Change(set_fields, price_change=price_change, audits=audits, assessment=assessment)


async def _screen_price(category: str, b2c_price: int, product_id: str | None = None) -> Assessment:
    """The fraud check of a listing's price: far under its category's median (a fake listing's
    sign)."""
    median, listings = await repository.category_price_median(category, product_id)
    return risk.assess(RiskEvent.LISTING, [
        risk_rules.price_far_below_median(risk.risk_settings(), b2c_price, median, listings)])


def _moderation_hold(assessment: Assessment) -> dict[str, Any]:
    """A flagged listing goes to moderation: paused (hidden) until a moderator lifts it."""
    if not assessment.held:
        return {}
    return {"status": ProductStatus.PAUSED.value,
            "pause_reason": f"Held for moderation by the fraud checks: {', '.join(assessment.codes)}"}


async def archive_product(actor: Actor, product_id: str, reason: str | None) -> ProductRead:
    """Archive (never delete: orders keep referring to it); frees its SKU and listing key."""
    viewer, item = await _managed_product(actor, product_id)
    product = item.product
    if not actor.is_admin:
        await dealers_service.require_selling(product.dealer_id)
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
