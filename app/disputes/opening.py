"""Opening a dispute: the buyer disputes a paid order, which freezes its escrow."""

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from pymongo.errors import DuplicateKeyError

from app.audit import service as audit
from app.core import clock
from app.core.config import settings
from app.core.database import Session, transaction
from app.core.permissions import Actor
from app.disputes import repository
from app.disputes.exceptions import (
    DisputeAlreadyOpen,
    DisputedOrderNotFound,
    DisputeWindowClosed,
    OrderNotDisputable,
)
from app.disputes.models import Dispute, DisputeAction, DisputeStatus
from app.disputes.schemas import DisputeCreate
from app.disputes.service import DisputeView, get_visible, history
from app.orders import service as orders_service
from app.orders.models import Order, OrderStatus
from app.payments import service as payments_service
from app.payments.models import EscrowStatus, Payment

log = logging.getLogger(__name__)
OpenedHook = Callable[[str], Awaitable[None]]
_opened_hooks: list[OpenedHook] = []


def register_opened_hook(hook: OpenedHook) -> None:
    """Run `hook(order_id)` after a dispute of the order has been opened (committed); the
    chat locks the order's chat with it. A failing hook is logged, never undoes the dispute."""
    if hook not in _opened_hooks:
        _opened_hooks.append(hook)


# A completed order stays disputable until its window closes: a finance release right after
# delivery completes it, and must not end the buyer's window early.
DISPUTABLE_ORDERS = frozenset(
    {OrderStatus.PAID, OrderStatus.PACKED, OrderStatus.SHIPPED, OrderStatus.DELIVERED,
     OrderStatus.COMPLETED}
)


def _check_disputable(order: Order) -> None:
    if order.status not in DISPUTABLE_ORDERS or (
        order.status is OrderStatus.COMPLETED and order.delivered_at is None
    ):
        raise OrderNotDisputable(
            f"A {order.status.value} order cannot be disputed: disputes are opened between "
            "payment and the end of the dispute window after delivery",
            {"status": order.status.value},
        )
    if order.status not in (OrderStatus.DELIVERED, OrderStatus.COMPLETED):
        return
    delivered_at = order.delivered_at or order.updated_at
    days = settings().escrow.dispute_window_days
    closes_at = delivered_at + timedelta(days=days)
    if clock.utcnow() >= closes_at:
        raise DisputeWindowClosed(
            f"The dispute window closed {days:g} day(s) after delivery, at "
            f"{closes_at.isoformat()}",
            {"deliveredAt": delivered_at.isoformat(), "windowClosesAt": closes_at.isoformat(),
             "disputeWindowDays": days},
        )


async def _check_disputable_after_release(order: Order, payment: Payment) -> None:
    """Released early (or right after delivery) inside the window: disputable once, and
    settled by a refund after release, while something is left to refund."""
    if payment.amount_captured - payment.amount_refunded <= 0:
        raise OrderNotDisputable("Everything paid was refunded already",
                                 {"escrowStatus": payment.escrow_status.value})
    resolved = await repository.resolved_dispute_id(order.id)
    if resolved is not None:
        raise OrderNotDisputable(
            "A dispute of this order was resolved already and its money moved",
            {"disputeId": resolved, "escrowStatus": payment.escrow_status.value},
        )


async def open_dispute(actor: Actor, data: DisputeCreate) -> DisputeView:
    """The buyer disputes a paid order: one transaction inserts the dispute (one open per
    order, by a unique index), freezes the escrow and writes the audit entries."""
    order = await orders_service.get_order(data.order_id)
    if order.buyer_id != actor.id:
        raise DisputedOrderNotFound
    _check_disputable(order)
    payment = await payments_service.get_payment(order.payment_id) if order.payment_id else None
    if payment is None or payment.escrow_status is EscrowStatus.PENDING:
        raise OrderNotDisputable("The order's payment is not held in escrow",
                                 {"escrowStatus": payment.escrow_status.value if payment else None})
    released = payment.escrow_status is EscrowStatus.RELEASED
    if released:
        await _check_disputable_after_release(order, payment)
    elif order.status is OrderStatus.COMPLETED:
        raise OrderNotDisputable("The order is completed and its payment was not released",
                                 {"escrowStatus": payment.escrow_status.value})
    dispute = Dispute(
        order_id=order.id, payment_id=payment.id, buyer_id=order.buyer_id,
        dealer_id=order.dealer_id, reason=data.reason, details=data.details,
        open_key=order.id,
        # Released already: what the buyer could still get back (a refund after release).
        amount_in_dispute=(payment.amount_captured - payment.amount_refunded) if released
        else payments_service.held_amount(payment),
        escrow_status_before=payment.escrow_status.value,
    )
    document = {"_id": dispute.id,
                **dispute.model_dump(exclude={"id", "revision_id"}),
                "status_history": [history(None, DisputeAction.OPEN, actor)]}

    async def work(session: Session) -> None:
        await repository.insert(session, document)
        escrow_change: dict[str, object] | None = None
        if not released:
            await payments_service.freeze_for_dispute(session, payment.id)
            escrow_change = {"from": payment.escrow_status, "to": EscrowStatus.DISPUTED}
        await audit.record(
            session, actor=actor, action="dispute.opened", subject_type="dispute",
            subject_id=dispute.id, reason=data.details,
            changes={"status": {"from": None, "to": DisputeStatus.OPEN},
                     **({"escrowStatus": escrow_change} if escrow_change else {})},
            metadata={"orderId": order.id, "paymentId": payment.id,
                      "reason": data.reason.value, "amountInDispute": dispute.amount_in_dispute,
                      "afterRelease": released},
        )
        if escrow_change is None:
            return
        await audit.record(
            session, actor=actor, action="payment.dispute_frozen", subject_type="payment",
            subject_id=payment.id, reason=f"Dispute {dispute.id} opened",
            changes={"escrowStatus": escrow_change}, metadata={"disputeId": dispute.id},
        )

    try:
        await transaction(work)
    except DuplicateKeyError:
        existing = await repository.open_dispute_id(order.id)
        raise DisputeAlreadyOpen(data={"disputeId": existing, "orderId": order.id}) from None
    for hook in _opened_hooks:
        try:
            await hook(order.id)
        except Exception:
            log.exception("a dispute-opened hook failed", extra={"orderId": order.id})
    return await get_visible(actor, dispute.id)
