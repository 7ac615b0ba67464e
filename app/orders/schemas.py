"""Request and response models of the orders API (camelCase on the wire, paise as int)."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StrictInt

from app.core.permissions import Actor
from app.core.redaction import ShownActor, shown_actor
from app.core.schemas import APIModel, Paise
from app.core.validators import Phone, Pincode, Reason
from app.orders.models import Channel, Order, OrderAction, OrderStatus, Party, StockState
from app.orders.pricing import Quote

# A hard ceiling independent of the admin-set `max_line_quantity`, which is checked later.
QUANTITY_CEILING = 100_000
MAX_LINES = 50

Quantity = Annotated[
    StrictInt,
    Field(gt=0, le=QUANTITY_CEILING, description="A whole number of units (JSON integer)"),
]


class OrderLineIn(APIModel):
    product_id: str = Field(min_length=1, max_length=64)
    quantity: Quantity


class DeliveryAddressIn(APIModel):
    name: str = Field(min_length=1, max_length=120)
    phone: Phone
    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    state: str = Field(min_length=1, max_length=100)
    pincode: Pincode


class OrderCreate(APIModel):
    """Prices are never accepted from the client: the server prices every line."""

    items: list[OrderLineIn] = Field(min_length=1, max_length=MAX_LINES)
    delivery_address: DeliveryAddressIn
    repair_id: str | None = Field(
        default=None, min_length=1, max_length=64,
        description="Parts for a repair job (rep_…): only its assigned technician may name it",
    )


class OrderStatusIn(APIModel):
    action: Literal["pack", "ship", "deliver", "cancel"]
    reason: Reason | None = None
    carrier: str | None = Field(default=None, min_length=1, max_length=100)
    tracking_number: str | None = Field(default=None, min_length=1, max_length=100)


class OrderItemRead(APIModel):
    product_id: str
    sku: str
    title: str
    brand: str
    category: str
    unit_price: Paise
    mrp: Paise
    quantity: int
    line_total: Paise


class DeliveryAddressRead(APIModel):
    name: str
    phone: str
    line1: str
    line2: str | None = None
    city: str
    state: str
    pincode: str


class OrderStatusChangeRead(APIModel):
    from_status: OrderStatus | None = Field(alias="from")
    to_status: OrderStatus = Field(alias="to")
    action: OrderAction
    by: ShownActor = Field(description="Who acted; an admin as {role: admin} to anyone but admins")
    role: Party
    reason: str | None = None
    override: bool = False
    at: datetime


class OrderRead(APIModel):
    id: str
    buyer_id: str
    dealer_id: str
    channel: Channel
    status: OrderStatus
    items: list[OrderItemRead]
    delivery_address: DeliveryAddressRead
    subtotal: Paise
    delivery_charge: Paise
    service_fee: Paise
    total: Paise
    rule_flags: list[str]
    risk_flags: list[str] = Field(
        default_factory=list,
        description="Fraud rules that fired at checkout (status on_review until an admin "
                    "decides); shown to admins only",
    )
    stock_state: StockState
    reservation_expires_at: datetime | None = None
    payment_id: str | None = None
    repair_id: str | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    cancel_reason: str | None = None
    status_history: list[OrderStatusChangeRead]
    allowed_actions: list[str] = Field(
        default_factory=list, description="What the caller may do to the order now"
    )
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, order: Order, allowed_actions: list[str], viewer: Actor | None) -> "OrderRead":
        """The order as `viewer` sees it: admins' ids for admins only."""
        read = cls.model_validate(order)
        read.allowed_actions = allowed_actions
        if viewer is None or not viewer.is_admin:
            read.risk_flags = []
        for shown, entry in zip(read.status_history, order.status_history, strict=True):
            shown.by = shown_actor(viewer, entry.by, by_admin=entry.role is Party.ADMIN)
        return read


class RuleViolationRead(APIModel):
    flag: str
    message: str
    product_id: str | None = None


class OrderQuote(APIModel):
    """A priced checkout: what the order costs now, and which rules (if any) block it."""

    order_id: str | None = None
    channel: Channel
    dealer_id: str | None = None
    items: list[OrderItemRead]
    subtotal: Paise
    delivery_charge: Paise
    service_fee: Paise
    total: Paise
    rule_flags: list[str]
    violations: list[RuleViolationRead] = Field(default_factory=list)

    @classmethod
    def of(cls, quote: Quote, order_id: str | None = None) -> "OrderQuote":
        return cls(
            order_id=order_id,
            channel=quote.channel,
            dealer_id=quote.dealer_id,
            items=[OrderItemRead.model_validate(item) for item in quote.items],
            subtotal=quote.subtotal,
            delivery_charge=quote.delivery_charge,
            service_fee=quote.service_fee,
            total=quote.total,
            rule_flags=quote.rule_flags,
            violations=[RuleViolationRead.model_validate(v) for v in quote.violations],
        )
