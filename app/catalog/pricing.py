"""The pricing rules every product's prices must keep, on create and on every update."""

from typing import Any

from app.catalog.exceptions import PricingRuleViolation
from app.platform_rules import service as platform_rules_service
from app.platform_rules.categories import ProductCategory

PRICE_KEYS = {"b2b_price": "b2bPrice", "b2c_price": "b2cPrice", "mrp": "mrp"}


def _rupees(paise: int) -> str:
    return f"₹{paise // 100:,}.{paise % 100:02d}"


def price_errors(
    prices: dict[str, int], category: ProductCategory, min_price: int | None,
    max_price: int | None,
) -> list[dict[str, Any]]:
    """What is wrong with `prices` (keys b2b_price, b2c_price, mrp); empty when they are fine."""
    errors: list[dict[str, Any]] = []

    def error(name: str, message: str) -> None:
        errors.append({"field": f"body.{PRICE_KEYS[name]}", "message": message})

    for name, value in prices.items():
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            error(name, "must be a positive integer number of paise")
    if errors:
        return errors
    if prices["b2b_price"] > prices["b2c_price"]:
        error("b2b_price", "b2bPrice must not exceed b2cPrice")
    if prices["b2c_price"] > prices["mrp"]:
        error("b2c_price", "b2cPrice must not exceed mrp")
    for name, value in prices.items():
        if min_price is not None and value < min_price:
            error(name, f"must be at least {min_price} paise ({_rupees(min_price)}) "
                        f"for category {category.value}")
        if max_price is not None and value > max_price:
            error(name, f"must be at most {max_price} paise ({_rupees(max_price)}) "
                        f"for category {category.value}")
    return errors


async def check_prices(category: ProductCategory, prices: dict[str, int]) -> None:
    """Raise a 422 listing every broken rule: ordering b2b <= b2c <= mrp, category bounds."""
    rules = await platform_rules_service.get_pricing_rules()
    bounds = rules.category_bounds.get(category.value)
    errors = price_errors(
        prices, category,
        bounds.min_price if bounds else None, bounds.max_price if bounds else None,
    )
    if errors:
        raise PricingRuleViolation(data={"errors": errors})
