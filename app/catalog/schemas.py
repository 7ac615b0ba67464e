"""Request and response models of the catalogue and inventory API."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    StrictInt,
    field_validator,
    model_serializer,
    model_validator,
)

from app.catalog.models import ProductStatus
from app.catalog.search import unique_models
from app.core.schemas import APIModel
from app.core.validators import Reason
from app.platform_rules.categories import ProductCategory

MAX_PRICE = 10**10  # paise: ₹10 crore, far above any part
MAX_STOCK = 10**6
MAX_MODELS = 50
MAX_INVENTORY_ITEMS = 100

Price = Annotated[
    StrictInt, Field(gt=0, le=MAX_PRICE, description="Integer paise (49900 is ₹499.00)")
]
StockQuantity = Annotated[StrictInt, Field(ge=0, le=MAX_STOCK)]
MinB2BQuantity = Annotated[StrictInt, Field(ge=1, le=MAX_STOCK)]
Sku = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")]
Title = Annotated[str, Field(min_length=3, max_length=200)]
Brand = Annotated[str, Field(min_length=1, max_length=80)]
ModelName = Annotated[str, Field(min_length=1, max_length=80)]
Description = Annotated[str, Field(max_length=5000)]
ResourceId = Annotated[str, Field(min_length=1, max_length=64)]

# Keys left out of a product view (rather than sent as null) when the caller may not see them.
RESTRICTED_KEYS = ("b2b_price", "min_b2b_quantity", "pause_reason", "price_history", "version")


class ProductCreate(APIModel):
    sku: Sku
    title: Title
    brand: Brand
    category: ProductCategory
    compatible_models: list[ModelName] = Field(default_factory=list, max_length=MAX_MODELS)
    description: Description | None = None
    b2b_price: Price
    b2c_price: Price
    mrp: Price
    stock: StockQuantity
    min_b2b_quantity: MinB2BQuantity | None = Field(default=None, alias="minB2BQuantity")

    _models = field_validator("compatible_models")(unique_models)


class EditableStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    PAUSED = "paused"


class ProductUpdate(APIModel):
    """Only these fields may change; anything else in the body (dealerId, sku, stock…) is 422.

    The owning dealer edits the listing and moves it between active and inactive; admins
    pause it (with a reason) and lift a pause.
    """

    title: Title | None = None
    description: Description | None = None
    compatible_models: list[ModelName] | None = Field(default=None, max_length=MAX_MODELS)
    b2b_price: Price | None = None
    b2c_price: Price | None = None
    mrp: Price | None = None
    min_b2b_quantity: MinB2BQuantity | None = Field(default=None, alias="minB2BQuantity")
    status: EditableStatus | None = None
    reason: Reason | None = None

    @field_validator("compatible_models")
    @classmethod
    def _models(cls, models: list[str] | None) -> list[str] | None:
        return None if models is None else unique_models(models)

    @model_validator(mode="after")
    def _no_null_for_required(self) -> "ProductUpdate":
        nullable = {"description", "min_b2b_quantity", "reason"}
        nulled = sorted(
            name for name in self.model_fields_set - nullable if getattr(self, name) is None
        )
        if nulled:
            raise ValueError(f"cannot be null: {', '.join(nulled)}")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the caller sent (explicit nulls included), `reason` aside."""
        return {name: getattr(self, name) for name in self.model_fields_set if name != "reason"}


class PriceChangeRead(APIModel):
    at: datetime
    actor_id: str
    b2b_price: int
    b2c_price: int
    mrp: int


class ProductRead(APIModel):
    """A product as the caller may see it.

    `b2bPrice` and `minB2BQuantity` are present only for verified B2B buyers, the owning
    dealer and admins; `pauseReason`, `priceHistory` and `version` only for the owner and
    admins. Absent keys are left out, never sent as null.
    """

    id: str
    dealer_id: str
    sku: str
    title: str
    brand: str
    category: ProductCategory
    compatible_models: list[str]
    description: str | None = None
    b2c_price: int
    mrp: int
    b2b_price: int | None = None
    min_b2b_quantity: int | None = Field(default=None, alias="minB2BQuantity")
    status: ProductStatus
    available: int
    in_stock: bool
    pause_reason: str | None = None
    price_history: list[PriceChangeRead] | None = None
    version: int | None = None
    created_at: datetime
    updated_at: datetime

    # No return annotation on purpose: with one, the OpenAPI schema would be a bare object.
    @model_serializer(mode="wrap")
    def _omit_restricted(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo):  # type: ignore[no-untyped-def]  # noqa: E501
        data: dict[str, Any] = handler(self)
        fields = type(self).model_fields
        for name in RESTRICTED_KEYS:
            key = (fields[name].alias or name) if info.by_alias else name
            if data.get(key) is None:
                data.pop(key, None)
        return data


class ProductSort(StrEnum):
    NEWEST = "newest"
    PRICE = "price"
    PRICE_DESC = "-price"


@dataclass(frozen=True)
class BrowseFilters:
    """The query of a product browse (parsed by the router, matched by the repository)."""

    q: str | None = None
    category: ProductCategory | None = None
    brand: str | None = None
    model: str | None = None
    dealer_id: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool = False
    sort: ProductSort = ProductSort.NEWEST


class InventoryItemRead(APIModel):
    id: str = Field(description="The inventory record's id (the product's id)")
    product_id: str
    sku: str
    title: str
    status: ProductStatus | None = Field(default=None, description="The product's status")
    quantity: int
    reserved_count: int
    available: int
    low_stock: bool
    updated_at: datetime


class StockLevel(APIModel):
    product_id: ResourceId
    quantity: StockQuantity


class InventoryUpdate(APIModel):
    items: list[StockLevel] = Field(min_length=1, max_length=MAX_INVENTORY_ITEMS)

    @field_validator("items")
    @classmethod
    def _distinct_products(cls, items: list[StockLevel]) -> list[StockLevel]:
        ids = [item.product_id for item in items]
        if len(set(ids)) != len(ids):
            raise ValueError("each productId may appear only once")
        return items


class InventoryUpdateResult(APIModel):
    items: list[InventoryItemRead]


ProductStatusFilter = Literal["active", "inactive", "paused", "archived"]
