"""The rule sets as the API shows them, with their defaults (absent from the database)."""

from typing import Annotated

from pydantic import Field, StrictInt, field_validator, model_validator

from app.core.schemas import APIModel
from app.platform_rules.categories import ProductCategory

MAX_PAISE = 10**10
PaiseAmount = Annotated[StrictInt, Field(ge=0, le=MAX_PAISE)]


class PriceBounds(APIModel):
    min_price: PaiseAmount | None = None
    max_price: PaiseAmount | None = None

    @model_validator(mode="after")
    def ordered(self) -> "PriceBounds":
        both = self.min_price is not None and self.max_price is not None
        if both and self.min_price > self.max_price:  # type: ignore[operator]
            raise ValueError("minPrice must not exceed maxPrice")
        return self

    def contains(self, price: int) -> bool:
        return (self.min_price is None or price >= self.min_price) and (
            self.max_price is None or price <= self.max_price
        )


class PricingRules(APIModel):
    """Every value in integer paise, except minutes and quantities."""

    category_bounds: dict[str, PriceBounds] = Field(
        description="Per-category allowed price range for every price of a product"
    )
    b2b_minimum_order: PaiseAmount = Field(description="Minimum B2B subtotal")
    b2c_minimum_order: PaiseAmount = Field(description="Minimum B2C subtotal")
    b2c_delivery_charge: PaiseAmount
    b2c_free_delivery_from: PaiseAmount
    b2b_delivery_charge: PaiseAmount
    b2b_free_delivery_from: PaiseAmount
    service_fee: PaiseAmount
    reservation_minutes: Annotated[StrictInt, Field(ge=1, le=24 * 60)]
    max_line_quantity: Annotated[StrictInt, Field(ge=1, le=100_000)]

    @field_validator("category_bounds")
    @classmethod
    def known_categories(cls, bounds: dict[str, PriceBounds]) -> dict[str, PriceBounds]:
        unknown = set(bounds) - {category.value for category in ProductCategory}
        if unknown:
            raise ValueError(f"unknown categories: {', '.join(sorted(unknown))}")
        return bounds


DEFAULT_PRICING_RULES = PricingRules(
    category_bounds={},
    b2b_minimum_order=1_000_000,
    b2c_minimum_order=50_000,
    b2c_delivery_charge=4_900,
    b2c_free_delivery_from=99_900,
    b2b_delivery_charge=19_900,
    b2b_free_delivery_from=2_500_000,
    service_fee=0,
    reservation_minutes=15,
    max_line_quantity=1_000,
)

TierName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")]
BasisPoints = Annotated[StrictInt, Field(ge=0, le=10_000)]
DEFAULT_TIER = "standard"


class CommissionTiers(APIModel):
    tiers: dict[TierName, BasisPoints] = Field(
        description="Tier name → commission rate in basis points of the subtotal (1000 = 10%)"
    )

    @field_validator("tiers")
    @classmethod
    def keeps_default(cls, tiers: dict[str, int]) -> dict[str, int]:
        if DEFAULT_TIER not in tiers:
            raise ValueError(f"the '{DEFAULT_TIER}' tier must exist")
        return tiers


DEFAULT_COMMISSION_TIERS = CommissionTiers(tiers={DEFAULT_TIER: 1_000})
