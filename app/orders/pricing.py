"""Checkout pricing and rule checks: a pure function of catalogue, dealer and platform rules."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from app.orders.models import Channel, OrderItem


class RuleFlag:
    B2B_MINIMUM = "B2B_MINIMUM"
    B2C_MINIMUM = "B2C_MINIMUM"
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    PRODUCT_UNAVAILABLE = "PRODUCT_UNAVAILABLE"
    DEALER_UNAVAILABLE = "DEALER_UNAVAILABLE"
    MIN_B2B_QUANTITY = "MIN_B2B_QUANTITY"
    SELF_PURCHASE = "SELF_PURCHASE"
    MULTIPLE_DEALERS = "MULTIPLE_DEALERS"
    PRICE_CHANGED = "PRICE_CHANGED"
    ZERO_TOTAL = "ZERO_TOTAL"
    TOO_MANY_UNPAID_ORDERS = "TOO_MANY_UNPAID_ORDERS"


ORDERABLE_STATUS = "active"


class ProductView(Protocol):
    """What pricing reads of a catalogue product (catalog_service.ProductSnapshot)."""

    @property
    def id(self) -> str: ...
    @property
    def dealer_id(self) -> str: ...
    @property
    def sku(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def brand(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def b2b_price(self) -> int: ...
    @property
    def b2c_price(self) -> int: ...
    @property
    def mrp(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def min_b2b_quantity(self) -> int | None: ...
    @property
    def dealer_listed(self) -> bool: ...
    @property
    def available(self) -> int: ...


class DealerView(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def user_id(self) -> str: ...
    @property
    def gstin(self) -> str: ...


class PricingRulesView(Protocol):
    @property
    def b2b_minimum_order(self) -> int: ...
    @property
    def b2c_minimum_order(self) -> int: ...
    @property
    def b2c_delivery_charge(self) -> int: ...
    @property
    def b2c_free_delivery_from(self) -> int: ...
    @property
    def b2b_delivery_charge(self) -> int: ...
    @property
    def b2b_free_delivery_from(self) -> int: ...
    @property
    def service_fee(self) -> int: ...


@dataclass(frozen=True)
class Demand:
    """The total quantity of one product asked for, over every line that names it."""

    product_id: str
    quantity: int
    first_line: int


@dataclass(frozen=True)
class Violation:
    flag: str
    message: str
    product_id: str | None = None


@dataclass
class Quote:
    channel: Channel
    dealer_id: str | None
    items: list[OrderItem]
    subtotal: int
    delivery_charge: int
    service_fee: int
    total: int
    violations: list[Violation] = field(default_factory=list)

    @property
    def rule_flags(self) -> list[str]:
        return list(dict.fromkeys(violation.flag for violation in self.violations))

    @property
    def blocked(self) -> bool:
        return bool(self.violations)


@dataclass(frozen=True)
class Buyer:
    id: str
    channel: Channel
    verified_gstin: str | None = None


def aggregate(lines: Iterable[tuple[str, int]]) -> list[Demand]:
    """One demand per product, in the order products first appear."""
    totals: dict[str, int] = {}
    first: dict[str, int] = {}
    for index, (product_id, quantity) in enumerate(lines):
        totals[product_id] = totals.get(product_id, 0) + quantity
        first.setdefault(product_id, index)
    return [Demand(pid, quantity, first[pid]) for pid, quantity in totals.items()]


def dealer_ids_of(demands: Iterable[Demand], products: Mapping[str, ProductView]) -> list[str]:
    seen = (products[d.product_id].dealer_id for d in demands if d.product_id in products)
    return list(dict.fromkeys(seen))


def delivery_charge(rules: PricingRulesView, channel: Channel, subtotal: int) -> int:
    if channel is Channel.B2B:
        charge, free_from = rules.b2b_delivery_charge, rules.b2b_free_delivery_from
    else:
        charge, free_from = rules.b2c_delivery_charge, rules.b2c_free_delivery_from
    return 0 if subtotal >= free_from else charge


def quote(
    demands: list[Demand],
    products: Mapping[str, ProductView],
    dealer: DealerView | None,
    dealer_selling: bool,
    rules: PricingRulesView,
    buyer: Buyer,
    own_reservation: Mapping[str, int] | None = None,
) -> Quote:
    """Price the demands for the buyer's channel and list every rule they break.

    `own_reservation` is stock already reserved for this very order (re-validating a
    pending order): it counts as available to it.
    """
    own_reservation = own_reservation or {}
    violations: list[Violation] = []
    items: list[OrderItem] = []
    dealer_ids = dealer_ids_of(demands, products)
    if len(dealer_ids) > 1:
        violations.append(Violation(
            RuleFlag.MULTIPLE_DEALERS, "All items of an order must come from one dealer"
        ))
    for demand in demands:
        product = products.get(demand.product_id)
        if product is None:
            violations.append(Violation(
                RuleFlag.PRODUCT_UNAVAILABLE, "This product does not exist", demand.product_id
            ))
            continue
        items.append(_priced_item(product, demand.quantity, buyer.channel))
        violations.extend(_product_violations(product, demand, buyer.channel, own_reservation))
    if len(dealer_ids) == 1 and not dealer_selling:
        violations.append(Violation(
            RuleFlag.DEALER_UNAVAILABLE, "The dealer is not accepting orders"
        ))
    if dealer is not None and _is_self_purchase(dealer, buyer):
        violations.append(Violation(
            RuleFlag.SELF_PURCHASE, "A dealer cannot buy its own parts"
        ))
    subtotal = sum(item.line_total for item in items)
    violations.extend(_minimum_violations(rules, buyer.channel, subtotal))
    charge = delivery_charge(rules, buyer.channel, subtotal)
    total = subtotal + charge + rules.service_fee
    if total <= 0:
        violations.append(Violation(RuleFlag.ZERO_TOTAL, "An order cannot total ₹0"))
    return Quote(
        channel=buyer.channel,
        dealer_id=dealer_ids[0] if len(dealer_ids) == 1 else None,
        items=items,
        subtotal=subtotal,
        delivery_charge=charge,
        service_fee=rules.service_fee,
        total=total,
        violations=violations,
    )


def _priced_item(product: ProductView, quantity: int, channel: Channel) -> OrderItem:
    unit_price = product.b2b_price if channel is Channel.B2B else product.b2c_price
    return OrderItem(
        product_id=product.id,
        sku=product.sku,
        title=product.title,
        brand=product.brand,
        category=str(product.category),
        unit_price=unit_price,
        mrp=product.mrp,
        quantity=quantity,
        line_total=unit_price * quantity,
    )


def _product_violations(
    product: ProductView, demand: Demand, channel: Channel, own_reservation: Mapping[str, int]
) -> list[Violation]:
    if product.status != ORDERABLE_STATUS or not product.dealer_listed:
        return [Violation(
            RuleFlag.PRODUCT_UNAVAILABLE, "This product is not available for sale", product.id
        )]
    found = []
    available = product.available + own_reservation.get(product.id, 0)
    if demand.quantity > available:
        found.append(Violation(
            RuleFlag.INSUFFICIENT_STOCK,
            f"Only {max(available, 0)} in stock, {demand.quantity} asked for",
            product.id,
        ))
    minimum = product.min_b2b_quantity
    if channel is Channel.B2B and minimum and demand.quantity < minimum:
        found.append(Violation(
            RuleFlag.MIN_B2B_QUANTITY,
            f"Business orders need at least {minimum} of this product",
            product.id,
        ))
    return found


def _is_self_purchase(dealer: DealerView, buyer: Buyer) -> bool:
    if dealer.user_id == buyer.id:
        return True
    gstin = buyer.verified_gstin
    return bool(gstin and dealer.gstin and gstin.strip().upper() == dealer.gstin.strip().upper())


def _minimum_violations(rules: PricingRulesView, channel: Channel, subtotal: int) -> list[Violation]:
    if channel is Channel.B2B and subtotal < rules.b2b_minimum_order:
        return [Violation(
            RuleFlag.B2B_MINIMUM,
            f"Business orders need a subtotal of at least {rules.b2b_minimum_order} paise",
        )]
    if channel is Channel.B2C and subtotal < rules.b2c_minimum_order:
        return [Violation(
            RuleFlag.B2C_MINIMUM,
            f"Orders need a subtotal of at least {rules.b2c_minimum_order} paise",
        )]
    return []


def price_changes(
    ordered: list[OrderItem], current: Quote, order_totals: tuple[int, int, int]
) -> list[Violation]:
    """How a re-priced order differs from what the buyer agreed to."""
    found = []
    current_prices = {item.product_id: item.unit_price for item in current.items}
    for item in ordered:
        now = current_prices.get(item.product_id)
        if now is not None and now != item.unit_price:
            found.append(Violation(
                RuleFlag.PRICE_CHANGED,
                f"The unit price changed from {item.unit_price} to {now} paise",
                item.product_id,
            ))
    delivery, fee, total = order_totals
    if not found and (current.delivery_charge, current.service_fee, current.total) != (
        delivery, fee, total
    ):
        found.append(Violation(
            RuleFlag.PRICE_CHANGED, f"The order total changed from {total} to {current.total} paise"
        ))
    return found
