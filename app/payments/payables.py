"""What a payment pays for: an order (to its dealer) or a repair job's accepted quote (to its
technician, `tch_…`). Everything else in payments (escrow, ledger, release, refunds,
disputes, payouts) is the same for both."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from app.core import clock
from app.core.database import Session
from app.core.permissions import Actor
from app.dealers import service as dealers_service
from app.orders import service as orders_service
from app.orders.models import OrderStatus
from app.payments.models import PayableType
from app.platform_rules import service as platform_rules_service
from app.repairs import terminal as repairs_terminal
from app.repairs.models import RepairStatus
from app.technicians import service as technicians_service


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
    # The key naming the payable in request bodies, audit metadata and gateway notes.
    field: str

    async def terms_for_payment(self, actor: Actor, payable_id: str) -> PayableTerms: ...

    async def commission_rate_bps(self, tier: str) -> int:
        """The payee's commission tier's rate (dealer tiers or technician tiers)."""
        ...

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
    field = "orderId"

    async def commission_rate_bps(self, tier: str) -> int:
        return await platform_rules_service.commission_rate_bps(tier)

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


class RepairPayable:
    """A repair job's accepted quote: the customer pays it, its technician is paid (the
    commission of the technician's tier on the whole total); nothing is reserved, and the
    job counts as delivered once completed."""

    kind = PayableType.REPAIR
    field = "repairId"

    async def terms_for_payment(self, actor: Actor, payable_id: str) -> PayableTerms:
        repair = await repairs_terminal.payment_check(actor, payable_id)
        assert repair.quote is not None and repair.technician_id is not None
        technician = await technicians_service.get_technician(repair.technician_id)
        tier = technician.commission_tier if technician is not None else "standard"
        return PayableTerms(
            payable_id=repair.id, payer_id=repair.customer_id, payee_id=repair.technician_id,
            amount=repair.quote.total, subtotal=repair.quote.total, delivery_charge=0,
            service_fee=0, payee_commission_tier=tier,
            placed_at=repair.quote.accepted_at or repair.created_at,
        )

    async def commission_rate_bps(self, tier: str) -> int:
        return await platform_rules_service.technician_commission_rate_bps(tier)

    async def keep_reserved(
        self, session: Session, payable_id: str, minutes: int, placed_at: datetime | None = None
    ) -> None:
        """A job holds no stock: nothing to keep."""

    async def mark_paid(self, session: Session, payable_id: str, payment_id: str) -> None:
        await repairs_terminal.mark_paid(session, payable_id, payment_id)

    async def after_paid(self, payable_id: str) -> None:
        """Nothing follows: the job goes on as it was."""

    async def fulfilment(self, payable_id: str) -> Fulfilment:
        repair = await repairs_terminal.get_repair(payable_id)
        return Fulfilment(
            delivered=repair.status is RepairStatus.COMPLETED,
            delivered_at=repair.completed_at,
            cancelled=repair.status is RepairStatus.CANCELLED,
        )

    async def mark_completed(self, session: Session, payable_id: str) -> None:
        """The job completed before release could happen: nothing more to close."""

    async def on_refunded(self, session: Session, payable_id: str, fully_refunded: bool) -> None:
        """A refund leaves the job as it is (an admin cancels it if the work stops)."""


PAYABLES: dict[PayableType, Payable] = {PayableType.ORDER: OrderPayable(),
                                        PayableType.REPAIR: RepairPayable()}


def payable_of(kind: PayableType) -> Payable:
    return PAYABLES[kind]


async def payee_user_id(payee_id: str) -> str | None:
    """The account of a payee (a technician `tch_…` or a dealer), to tell it of its money."""
    profile = (await technicians_service.get_technician(payee_id) if payee_id.startswith("tch_")
               else await dealers_service.get_dealer(payee_id))
    return profile.user_id if profile is not None else None
