"""Beanie documents of this domain: the order, its priced lines and its status history."""

from datetime import datetime
from enum import StrEnum

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.core import clock
from app.core.ids import new_id
from app.core.policy import OwnerFields, Owners


class OrderStatus(StrEnum):
    # Held by the fraud checks until an ops admin approves (→ pending_payment) or rejects it.
    ON_REVIEW = "on_review"
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class OrderAction(StrEnum):
    PLACE = "place"
    PAY = "pay"
    PACK = "pack"
    SHIP = "ship"
    DELIVER = "deliver"
    COMPLETE = "complete"
    CANCEL = "cancel"
    EXPIRE = "expire"
    # A dispute resolved before delivery closes the order (an ops_lead override, never a PATCH).
    RESOLVE = "resolve"
    # An ops admin's decision on an order held by the fraud checks.
    APPROVE = "approve"
    REJECT = "reject"


class Channel(StrEnum):
    B2B = "b2b"
    B2C = "b2c"


class StockState(StrEnum):
    """Where the order's stock stands in the catalogue's inventory."""

    RESERVED = "reserved"
    COMMITTED = "committed"
    RELEASED = "released"
    RETURNED = "returned"


class Party(StrEnum):
    """In which capacity an actor moves an order."""

    BUYER = "buyer"
    DEALER = "dealer"
    ADMIN = "admin"
    SYSTEM = "system"


class OrderItem(BaseModel):
    """One product of the order with the catalogue data and unit price as they were."""

    product_id: str
    sku: str
    title: str
    brand: str
    category: str
    unit_price: int
    mrp: int
    quantity: int
    line_total: int


class DeliveryAddress(BaseModel):
    name: str
    phone: str
    line1: str
    line2: str | None = None
    city: str
    state: str
    pincode: str


class StatusChange(BaseModel):
    from_status: OrderStatus | None
    to_status: OrderStatus
    action: OrderAction
    by: str
    role: Party
    reason: str | None = None
    override: bool = False
    at: datetime = Field(default_factory=clock.utcnow)


# The fields of an order document that name its owners (for the policy's query filters).
ORDER_OWNERS = OwnerFields(buyer="buyer_id", dealer="dealer_id")


class Order(Document):
    id: str = Field(default_factory=lambda: new_id("ord"))
    buyer_id: str
    dealer_id: str
    channel: Channel
    items: list[OrderItem]
    delivery_address: DeliveryAddress
    subtotal: int
    delivery_charge: int
    service_fee: int
    total: int
    rule_flags: list[str] = Field(default_factory=list)
    # The fraud rules that fired when it was placed (app/risk); set, it was held on review.
    risk_flags: list[str] = Field(default_factory=list)
    # Where it was placed from, for the per-device and per-address order velocity.
    placed_ip: str | None = None
    placed_device_id: str | None = None
    status: OrderStatus = OrderStatus.PENDING_PAYMENT
    stock_state: StockState = StockState.RESERVED
    reservation_expires_at: datetime | None = None
    # While the order awaits payment: which of the buyer's MAX_UNPAID_ORDERS_PER_CUSTOMER
    # places it takes (a unique index over the buyer's unpaid orders enforces the limit).
    unpaid_slot: int | None = None
    payment_id: str | None = None
    # The repair job (rep_…) its buyer, the job's technician, bought these parts for.
    repair_id: str | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    shipped_at: datetime | None = None
    cancel_reason: str | None = None
    status_history: list[StatusChange] = Field(default_factory=list)
    version: int = 1
    created_at: datetime = Field(default_factory=clock.utcnow)
    updated_at: datetime = Field(default_factory=clock.utcnow)

    @property
    def owners(self) -> Owners:
        """Who the order belongs to, for the viewer policy."""
        return Owners(buyer_id=self.buyer_id, dealer_id=self.dealer_id)

    @property
    def delivered_at(self) -> datetime | None:
        """When the order was last marked delivered (the dispute window runs from here)."""
        for change in reversed(self.status_history):
            if change.to_status is OrderStatus.DELIVERED:
                return change.at
        return None

    class Settings:
        name = "orders"
        indexes = [
            IndexModel(
                [("buyer_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                name="by_buyer",
            ),
            IndexModel(
                [("buyer_id", ASCENDING), ("status", ASCENDING),
                 ("created_at", DESCENDING), ("_id", DESCENDING)],
                name="by_buyer_status",
            ),
            IndexModel(
                [("dealer_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                name="by_dealer",
            ),
            IndexModel(
                [("dealer_id", ASCENDING), ("status", ASCENDING),
                 ("created_at", DESCENDING), ("_id", DESCENDING)],
                name="by_dealer_status",
            ),
            IndexModel([("status", ASCENDING), ("shipped_at", ASCENDING)], name="by_shipped"),
            IndexModel(
                [("status", ASCENDING), ("reservation_expires_at", ASCENDING)],
                name="reservation_expiry",
            ),
            IndexModel(
                [("status", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                name="by_status",
            ),
            IndexModel(
                [("channel", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                name="by_channel",
            ),
            IndexModel([("created_at", DESCENDING), ("_id", DESCENDING)], name="newest"),
            # The orders holding reserved stock of a product (the reservation reconciler).
            IndexModel([("stock_state", ASCENDING), ("items.product_id", ASCENDING)],
                       name="by_stock_state_product"),
            IndexModel([("placed_device_id", ASCENDING), ("created_at", DESCENDING)],
                       partialFilterExpression={"placed_device_id": {"$type": "string"}},
                       name="by_placing_device"),
            IndexModel([("placed_ip", ASCENDING), ("created_at", DESCENDING)],
                       partialFilterExpression={"placed_ip": {"$type": "string"}},
                       name="by_placing_ip"),
            IndexModel(
                [("buyer_id", ASCENDING), ("unpaid_slot", ASCENDING)], unique=True,
                partialFilterExpression={"unpaid_slot": {"$type": "int"}},
                name="one_unpaid_order_per_slot",
            ),
        ]


DOCUMENTS: list[type] = [Order]
