"""What a payment pays for. Today an order; a repair job later plugs in the same way."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from app.core import clock
from app.core.database import Session
from app.core.permissions import Actor
from app.orders import service as orders_service
from app.orders.models import OrderStatus
from app.payments.models import PayableType


@dataclass(frozen=True)
class PayableTerms:
    """The amounts and parties of a payable, as validated for payment."""

    payable_id: str
    payer_id: str
    payee_id: str
    amount: int
    subtotal: int
    delivery_charge: int
    service_fee: int
    # The payee's commission tier as validated, and when the payable was placed (the cap
    # of how long it may stay reserved): so payment creation reads neither again.
    payee_commission_tier: str
    placed_at: datetime


@dataclass(frozen=True)
class Fulfilment:
    delivered: bool
    delivered_at: datetime | None
    cancelled: bool


class Payable(Protocol):
    kind: PayableType

    async def terms_for_payment(self, actor: Actor, payable_id: str) -> PayableTerms: ...

    async def keep_reserved(
        self, session: Session, payable_id: str, minutes: int, placed_at: datetime | None = None
    ) -> None: ...

    async def mark_paid(self, session: Session, payable_id: str, payment_id: str) -> None: ...

    async def after_paid(self, payable_id: str) -> None:
        """Once the capture's transaction committed: what follows from being paid."""
        ...

    async def fulfilment(self, payable_id: str) -> Fulfilment: ...

    async def mark_completed(self, session: Session, payable_id: str) -> None: ...

    async def on_refunded(self, session: Session, payable_id: str, fully_refunded: bool) -> None:
        ...


class OrderPayable:
    kind = PayableType.ORDER

    async def terms_for_payment(self, actor: Actor, payable_id: str) -> PayableTerms:
        check = await orders_service.payment_check(actor, payable_id)
        order = check.order
        return PayableTerms(
            payable_id=order.id, payer_id=order.buyer_id, payee_id=order.dealer_id,
            amount=order.total, subtotal=order.subtotal, delivery_charge=order.delivery_charge,
            service_fee=order.service_fee, payee_commission_tier=check.dealer.commission_tier,
            placed_at=order.created_at,
        )

    async def keep_reserved(
        self, session: Session, payable_id: str, minutes: int, placed_at: datetime | None = None
    ) -> None:
        await orders_service.extend_reservation(
            session, payable_id, clock.utcnow() + timedelta(minutes=minutes),
            placed_at=placed_at,
        )

    async def mark_paid(self, session: Session, payable_id: str, payment_id: str) -> None:
        await orders_service.mark_paid(session, payable_id, payment_id)

    async def after_paid(self, payable_id: str) -> None:
        await orders_service.commit_sold_stock(payable_id)

    async def fulfilment(self, payable_id: str) -> Fulfilment:
        order = await orders_service.get_order(payable_id)
        return Fulfilment(
            delivered=order.status in (OrderStatus.DELIVERED, OrderStatus.COMPLETED),
            delivered_at=order.delivered_at,
            cancelled=order.status is OrderStatus.CANCELLED,
        )

    async def mark_completed(self, session: Session, payable_id: str) -> None:
        await orders_service.mark_completed(session, payable_id)

    async def on_refunded(self, session: Session, payable_id: str, fully_refunded: bool) -> None:
        """In the refund's transaction: a full refund before shipping cancels the order and
        puts its stock back; a partial one leaves it to be shipped."""
        if fully_refunded:
            await orders_service.cancel_after_full_refund(session, payable_id)


PAYABLES: dict[PayableType, Payable] = {PayableType.ORDER: OrderPayable()}


def payable_of(kind: PayableType) -> Payable:
    return PAYABLES[kind]

