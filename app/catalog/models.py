"""Beanie documents of the catalogue: products and one inventory document per product."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.core import clock
from app.core.ids import new_id
from app.platform_rules.categories import ProductCategory

PRICE_HISTORY_KEPT = 100
CATALOG_STATE_ID = "catalog"
# The uniqueness keys leave the unique indexes when a product is archived (`$unset`),
# so a dealer can list the same SKU or part again after archiving the old listing.
_WHILE_KEYED = {"partialFilterExpression": {"sku_key": {"$exists": True}}}
_WHILE_LISTED = {"partialFilterExpression": {"listing_key": {"$exists": True}}}


def stored_now() -> datetime:
    """Now, at the millisecond precision the database keeps, so responses match reads."""
    now = clock.utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class ProductStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    PAUSED = "paused"
    ARCHIVED = "archived"


class PriceChange(BaseModel):
    """One entry of a product's price history: the prices in force from `at`."""

    at: datetime = Field(default_factory=stored_now)
    actor_id: str
    b2b_price: int
    b2c_price: int
    mrp: int


class Product(Document):
    id: str = Field(default_factory=lambda: new_id("prd"))
    dealer_id: str
    sku: str
    sku_key: str | None = None
    title: str
    brand: str
    category: ProductCategory
    compatible_models: list[str] = Field(default_factory=list)
    description: str | None = None
    b2b_price: int
    b2c_price: int
    mrp: int
    min_b2b_quantity: int | None = None
    status: ProductStatus = ProductStatus.ACTIVE
    pause_reason: str | None = None
    # False while the dealer is not approved (suspended, blocked): set for all its products
    # at once, so browsing stays one indexed query with no join on dealers.
    dealer_listed: bool = True
    listing_key: str | None = None
    brand_key: str
    model_keys: list[str] = Field(default_factory=list)
    search_tokens: list[str] = Field(default_factory=list)
    price_history: list[PriceChange] = Field(default_factory=list)
    version: int = 1
    # The catalogue version of the product's last change that can alter a listing (see
    # CatalogState): browse read models fetch the products stamped after the version they hold.
    catalog_version: int = 0
    created_at: datetime = Field(default_factory=stored_now)
    updated_at: datetime = Field(default_factory=stored_now)

    class Settings:
        name = "products"
        indexes = [
            IndexModel(
                [("dealer_id", ASCENDING), ("sku_key", ASCENDING)],
                unique=True, name="sku_per_dealer", **_WHILE_KEYED,
            ),
            IndexModel(
                [("dealer_id", ASCENDING), ("listing_key", ASCENDING)],
                unique=True, name="listing_per_dealer", **_WHILE_LISTED,
            ),
            IndexModel(
                [("status", ASCENDING), ("dealer_listed", ASCENDING),
                 ("created_at", DESCENDING), ("_id", DESCENDING)],
                name="browse_newest",
            ),
            IndexModel(
                [("status", ASCENDING), ("dealer_listed", ASCENDING),
                 ("b2c_price", ASCENDING), ("_id", ASCENDING)],
                name="browse_b2c_price",
            ),
            IndexModel(
                [("status", ASCENDING), ("dealer_listed", ASCENDING),
                 ("b2b_price", ASCENDING), ("_id", ASCENDING)],
                name="browse_b2b_price",
            ),
            IndexModel(
                [("category", ASCENDING), ("status", ASCENDING), ("created_at", DESCENDING)],
                name="by_category",
            ),
            IndexModel([("search_tokens", ASCENDING)], name="search_tokens"),
            IndexModel([("model_keys", ASCENDING)], name="by_model"),
            IndexModel([("brand_key", ASCENDING), ("status", ASCENDING)], name="by_brand"),
            IndexModel(
                [("dealer_id", ASCENDING), ("status", ASCENDING),
                 ("created_at", DESCENDING), ("_id", DESCENDING)],
                name="by_dealer",
            ),
            IndexModel([("catalog_version", ASCENDING)], name="by_catalog_version"),
        ]


class CatalogState(Document):
    """The catalogue version: one document, `$inc`-ed in the transaction of every change that
    can alter a listing (create, edit, price, status, archive, dealer visibility), which also
    stamps the changed products with the new value. Transactions that bump it write-conflict,
    so versions commit in order: once a reader sees version v, every product stamped <= v is
    committed and readable."""

    id: str = CATALOG_STATE_ID
    version: int = 0

    class Settings:
        name = "catalog_state"


class Inventory(Document):
    """Stock of one product; its `_id` is the product's id.

    `available` is stored, and every update changes it in the same single-document write as
    `quantity`/`reserved_count`, so that reserving is one conditional update on `available`.
    """

    id: str
    product_id: str
    dealer_id: str
    quantity: int
    reserved_count: int = 0
    available: int
    created_at: datetime = Field(default_factory=stored_now)
    updated_at: datetime = Field(default_factory=stored_now)

    class Settings:
        name = "inventory"
        indexes = [
            IndexModel(
                [("dealer_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                name="by_dealer",
            ),
            IndexModel([("dealer_id", ASCENDING), ("available", ASCENDING)], name="low_stock"),
            # Only products holding reservations, for the reservation reconciler.
            IndexModel([("reserved_count", ASCENDING), ("updated_at", ASCENDING)],
                       partialFilterExpression={"reserved_count": {"$gt": 0}},
                       name="holding_reservations"),
        ]


@dataclass(frozen=True)
class ProductWithStock:
    """A product as reads return it: joined with its available stock."""

    product: Product
    available: int


DOCUMENTS: list[type] = [Product, Inventory, CatalogState]
