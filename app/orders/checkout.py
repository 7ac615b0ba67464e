"""Checkout: pricing a basket against the platform's rules, reserving its stock and saving
the order; and re-validating a pending order before it is paid."""

import asyncio
import logging
from datetime import timedelta

from pymongo.errors import DuplicateKeyError

from app.audit import service as audit
from app.catalog import service as catalog_service
from app.core import clock
from app.core.config import settings
from app.core.context import current_source
from app.core.database import Session, transaction
from app.core.permissions import SYSTEM_ACTOR, Actor
from app.dealers import service as dealers_service
from app.dealers.models import Dealer
from app.orders import pricing, repair_parts
from app.orders import repository as repo
from app.orders.exceptions import CheckoutBlocked, IllegalOrderTransition, OrderInputInvalid
from app.orders.models import (
    Channel,
    DeliveryAddress,
    Order,
    OrderAction,
    OrderItem,
    OrderStatus,
    Party,
    StatusChange,
    StockState,
)
from app.orders.parties import OrderView, view
from app.orders.pricing import Buyer, Demand, Quote, RuleFlag, Violation
from app.orders.queries import visible_order
from app.orders.schemas import OrderCreate, OrderQuote
from app.orders.transitions import allowed_actions
from app.platform_rules import service as platform_rules_service
from app.risk import rules as risk_rules
from app.risk import service as risk
from app.risk.models import Assessment, RiskEvent
from app.sessions import service as sessions_service
from app.users import service as users_service

log = logging.getLogger(__name__)

VERIFIED = "verified"


async def place_order(actor: Actor, data: OrderCreate, dry_run: bool = False) -> OrderView | Quote:
    """Price and check the basket; unless `dry_run`, reserve its stock and save the order."""
    demands = pricing.aggregate((line.product_id, line.quantity) for line in data.items)
    rules, products, buyer, unpaid = await asyncio.gather(
        platform_rules_service.get_pricing_rules(),
        catalog_service.get_products([demand.product_id for demand in demands]),
        _buyer(actor.id, Channel.B2B if actor.buyer_type == Channel.B2B.value else Channel.B2C),
        repo.unpaid_slots(actor.id),
    )
    _check_quantities(data, demands, rules.max_line_quantity)
    if data.repair_id is not None:
        await repair_parts.check_buyer(actor, data.repair_id)
    dealer_ids = pricing.dealer_ids_of(demands, products)
    dealer = await dealers_service.get_dealer(dealer_ids[0]) if len(dealer_ids) == 1 else None
    quote = pricing.quote(
        demands, products, dealer, dealers_service.is_selling(dealer), rules, buyer
    )
    limits = settings().orders
    free_slots = [slot for slot in range(limits.max_unpaid_per_customer) if slot not in unpaid]
    if not free_slots:
        quote.violations.append(_too_many_unpaid(limits.max_unpaid_per_customer))
    if quote.blocked:
        raise _blocked(quote)
    if dry_run:
        return quote
    minutes = min(rules.reservation_minutes, limits.reservation_max_minutes)
    order = _new_order(actor, data, quote, minutes)
    assessment = await _screen(actor, order)
    if assessment.held:
        _hold_for_review(order, assessment)
    order = await _reserve_and_save(actor, order, quote, free_slots, assessment)
    return OrderView(order, allowed_actions(order.status, {Party.BUYER}))


async def _screen(actor: Actor, order: Order) -> Assessment:
    """The fraud checks of a checkout: order velocity (account, device, address) and a high
    first order; notes on the order where it is placed from."""
    source = current_source()
    order.placed_ip = source.ip
    order.placed_device_id = await sessions_service.device_of(actor.session_id)
    config = risk.risk_settings()
    counts = await repo.placement_counts(order.buyer_id, order.placed_device_id, order.placed_ip,
                                         clock.utcnow() - timedelta(hours=1))
    # Only an order above the limit can be a high first order: others skip the lookup.
    high_value = order.total > config.first_order_high_value
    ordered_before = counts.account > 0 or not high_value or await repo.has_ordered(order.buyer_id)
    return risk.assess(RiskEvent.ORDER_PLACEMENT, [
        risk_rules.order_velocity(config, counts.account, counts.device, counts.ip),
        risk_rules.first_order_high_value(config, ordered_before, order.total),
    ])


def _hold_for_review(order: Order, assessment: Assessment) -> None:
    """Placed on review: its stock reserved and its unpaid place taken, but not payable (and
    not expiring) until an ops admin decides; approving restarts the reservation."""
    order.status = OrderStatus.ON_REVIEW
    order.risk_flags = assessment.codes
    order.status_history[0].to_status = OrderStatus.ON_REVIEW
    order.status_history[0].reason = f"Fraud checks: {', '.join(assessment.codes)}"


async def _buyer(user_id: str, channel: Channel) -> Buyer:
    gstin = None
    if channel is Channel.B2B:
        user = await users_service.get_account(user_id)
        business = user.business if user else None
        if business is not None and business.verification == VERIFIED:
            gstin = business.gstin
    return Buyer(user_id, channel, gstin)


def _too_many_unpaid(limit: int) -> Violation:
    return Violation(
        RuleFlag.TOO_MANY_UNPAID_ORDERS,
        f"You already have {limit} unpaid order(s): pay or cancel one before placing another",
    )


def _check_quantities(data: OrderCreate, demands: list[Demand], cap: int) -> None:
    for index, line in enumerate(data.items):
        if line.quantity > cap:
            raise OrderInputInvalid(f"body.items.{index}.quantity", f"must be at most {cap}")
    for demand in demands:
        if demand.quantity > cap:
            raise OrderInputInvalid(
                f"body.items.{demand.first_line}.quantity",
                f"the lines for this product add up to more than {cap}",
            )


def _blocked(quote: Quote, order_id: str | None = None) -> CheckoutBlocked:
    flags = quote.rule_flags
    return CheckoutBlocked(
        f"Order blocked: {', '.join(flags)}",
        {
            "ruleFlags": flags,
            "violations": [
                {"flag": v.flag, "message": v.message, "productId": v.product_id}
                for v in quote.violations
            ],
            "quote": OrderQuote.of(quote, order_id).model_dump(mode="json", by_alias=True),
        },
    )


def _new_order(actor: Actor, data: OrderCreate, quote: Quote, reservation_minutes: int) -> Order:
    now = clock.utcnow()
    assert quote.dealer_id is not None
    return Order(
        buyer_id=actor.id,
        dealer_id=quote.dealer_id,
        channel=quote.channel,
        items=quote.items,
        delivery_address=DeliveryAddress(**data.delivery_address.model_dump()),
        subtotal=quote.subtotal,
        delivery_charge=quote.delivery_charge,
        service_fee=quote.service_fee,
        total=quote.total,
        repair_id=data.repair_id,
        rule_flags=[],
        status=OrderStatus.PENDING_PAYMENT,
        stock_state=StockState.RESERVED,
        reservation_expires_at=now + timedelta(minutes=reservation_minutes),
        status_history=[
            StatusChange(
                from_status=None, to_status=OrderStatus.PENDING_PAYMENT, action=OrderAction.PLACE,
                by=actor.id, role=Party.BUYER, at=now,
            )
        ],
        created_at=now,
        updated_at=now,
    )


async def _reserve_and_save(
    actor: Actor, order: Order, quote: Quote, free_slots: list[int], assessment: Assessment
) -> Order:
    """Reserve every line atomically, then save the order in one of the buyer's free unpaid
    places (a unique index, so concurrent checkouts cannot exceed the limit); undo the
    reservations on failure.

    Each reservation is its own conditional update rather than part of the order's
    transaction: many checkouts of one popular product would otherwise conflict and retry
    (measured on the embedded server: 300 concurrent checkouts took 30 s in one transaction
    each, under 1 s this way).
    """
    reserved: list[OrderItem] = []
    try:
        for item in order.items:
            if not await catalog_service.reserve_stock(None, item.product_id, item.quantity):
                quote.violations.append(Violation(
                    RuleFlag.INSUFFICIENT_STOCK, "The stock ran out during checkout", item.product_id
                ))
                raise _blocked(quote)
            reserved.append(item)

        async def save(session: Session) -> None:
            await repo.insert(session, order)
            await repair_parts.link(session, actor, order)
            await audit.record(
                session, actor=actor, action=f"order.{OrderAction.PLACE.value}",
                subject_type="order", subject_id=order.id,
                changes={"status": {"from": None, "to": order.status}},
                metadata={
                    "dealerId": order.dealer_id, "channel": order.channel, "total": order.total,
                    "repairId": order.repair_id, "riskFlags": order.risk_flags,
                    "items": [{"productId": i.product_id, "quantity": i.quantity,
                               "unitPrice": i.unit_price} for i in order.items],
                },
            )
            await risk.record(session, actor, assessment, "order", order.id,
                              order.status.value)

        for slot in free_slots:
            order.unpaid_slot = slot
            try:
                await transaction(save)
                break
            except DuplicateKeyError:
                if await repo.get_visible(SYSTEM_ACTOR, order.id) is not None:
                    break  # our own commit, whose acknowledgement was lost, then retried
        else:
            quote.violations.append(_too_many_unpaid(settings().orders.max_unpaid_per_customer))
            raise _blocked(quote)
    except BaseException:
        if reserved:
            await asyncio.shield(_release_unsaved(order.id, reserved))
        raise
    return order


async def _release_unsaved(order_id: str, reserved: list[OrderItem]) -> None:
    try:
        # A commit whose acknowledgement was lost may still have saved the order.
        if await repo.get_visible(SYSTEM_ACTOR, order_id) is not None:
            return
        for item in reserved:
            await catalog_service.release_stock(None, item.product_id, item.quantity)
    except Exception:
        log.exception(
            "could not release the stock of a failed checkout",
            extra={"orderId": order_id,
                   "lines": [(item.product_id, item.quantity) for item in reserved]},
        )


async def validate_order(actor: Actor, order_id: str) -> Quote:
    """Re-check a pending order against current prices, stock, dealer and product status."""
    return await revalidate(actor, await visible_order(actor, order_id))


async def revalidate(actor: Actor, order: Order) -> Quote:
    """The order's quote at today's prices and rules; 409 unless pending, 422 if it fails."""
    return (await revalidate_with_dealer(actor, order))[0]


async def revalidate_with_dealer(actor: Actor, order: Order) -> tuple[Quote, Dealer | None]:
    """`revalidate`, and the order's dealer as it was checked (so callers need not read it
    again)."""
    if order.status is not OrderStatus.PENDING_PAYMENT:
        raise IllegalOrderTransition(
            f"Only an order awaiting payment can be validated; this one is {order.status.value}",
            {"status": order.status.value, "allowedActions": view(actor, order).allowed_actions},
        )
    demands = [Demand(item.product_id, item.quantity, n) for n, item in enumerate(order.items)]
    rules, products, dealer, buyer = await asyncio.gather(
        platform_rules_service.get_pricing_rules(),
        catalog_service.get_products([demand.product_id for demand in demands]),
        dealers_service.get_dealer(order.dealer_id),
        _buyer(order.buyer_id, order.channel),
    )
    own = (
        {item.product_id: item.quantity for item in order.items}
        if order.stock_state is StockState.RESERVED
        else {}
    )
    quote = pricing.quote(
        demands, products, dealer, dealers_service.is_selling(dealer), rules, buyer, own
    )
    quote.violations.extend(
        pricing.price_changes(
            order.items, quote, (order.delivery_charge, order.service_fee, order.total)
        )
    )
    if quote.blocked:
        raise _blocked(quote, order.id)
    return quote, dealer
