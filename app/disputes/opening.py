"""Opening a dispute: the buyer disputes a paid order (or the customer a paid repair job),
which freezes its escrow."""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pymongo.errors import DuplicateKeyError

from app.audit import service as audit
from app.core import clock
from app.core.config import settings
from app.core.database import Session, transaction
from app.core.errors import NotFound
from app.core.permissions import Actor
from app.disputes import repository
from app.disputes.exceptions import (
    DisputeActionForbidden,
    DisputeAlreadyOpen,
    DisputedOrderNotFound,
    DisputedRepairNotFound,
    DisputeWindowClosed,
    OrderNotDisputable,
    RepairNotDisputable,
)
from app.disputes.models import Dispute, DisputeAction, DisputeStatus
from app.disputes.schemas import DisputeCreate
from app.disputes.service import DisputeView, get_visible, history
from app.orders import service as orders_service
from app.orders.models import Order, OrderStatus
from app.payments import service as payments_service
from app.payments.models import EscrowStatus, Payment
from app.repairs import terminal as repairs_terminal
from app.repairs.models import Repair, RepairStatus

log = logging.getLogger(__name__)
OpenedHook = Callable[[str], Awaitable[None]]
_opened_hooks: list[OpenedHook] = []


def register_opened_hook(hook: OpenedHook) -> None:
    """Run `hook(job_id)` after a dispute of the order or repair job has been opened
    (committed); the chat locks the job's chat with it. A failing hook is logged, never undoes the dispute."""
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
    _check_window(order.delivered_at or order.updated_at, "delivery")


def _check_window(delivered_at: datetime, after: str) -> None:
    days = settings().escrow.dispute_window_days
    closes_at = delivered_at + timedelta(days=days)
    if clock.utcnow() >= closes_at:
        raise DisputeWindowClosed(
            f"The dispute window closed {days:g} day(s) after {after}, at "
            f"{closes_at.isoformat()}",
            {"deliveredAt": delivered_at.isoformat(), "windowClosesAt": closes_at.isoformat(),
             "disputeWindowDays": days},
        )


async def _check_disputable_after_release(subject_id: str, payment: Payment) -> None:
    """Released early (or right after delivery) inside the window: disputable once, and
    settled by a refund after release, while something is left to refund."""
    if payment.amount_captured - payment.amount_refunded <= 0:
        raise OrderNotDisputable("Everything paid was refunded already",
                                 {"escrowStatus": payment.escrow_status.value})
    resolved = await repository.resolved_dispute_id(subject_id)
    if resolved is not None:
        raise OrderNotDisputable(
            "A dispute of this one was resolved already and its money moved",
            {"disputeId": resolved, "escrowStatus": payment.escrow_status.value},
        )


@dataclass(frozen=True)
class _Disputed:
    """What is disputed: an order (paid to its dealer) or a repair job (to its technician)."""

    subject_id: str
    buyer_id: str
    payment: Payment
    order_id: str | None = None
    repair_id: str | None = None
    dealer_id: str | None = None
    technician_id: str | None = None


async def open_dispute(actor: Actor, data: DisputeCreate) -> DisputeView:
    """The buyer disputes a paid order, or the customer a paid repair job: one transaction
    inserts the dispute (one open per order or job, by a unique index), freezes the escrow
    and writes the audit entries."""
    if data.repair_id is not None:
        disputed = await _disputed_repair(actor, data.repair_id)
    else:
        assert data.order_id is not None
        disputed = await _disputed_order(actor, data.order_id)
    return await _open(actor, data, disputed)


async def _disputed_order(actor: Actor, order_id: str) -> _Disputed:
    order = await orders_service.get_order(order_id)
    if order.buyer_id != actor.id:
        raise DisputedOrderNotFound
    _check_disputable(order)
    payment = await _held_payment(order.payment_id)
    if payment.escrow_status is EscrowStatus.RELEASED:
        await _check_disputable_after_release(order.id, payment)
    elif order.status is OrderStatus.COMPLETED:
        raise OrderNotDisputable("The order is completed and its payment was not released",
                                 {"escrowStatus": payment.escrow_status.value})
    return _Disputed(order.id, order.buyer_id, payment, order_id=order.id,
                     dealer_id=order.dealer_id)


async def _disputed_repair(actor: Actor, repair_id: str) -> _Disputed:
    try:
        repair = await repairs_terminal.get_repair(repair_id)
    except NotFound:
        raise DisputedRepairNotFound from None
    if repair.customer_id != actor.id:
        if actor.technician_id is not None and actor.technician_id == repair.technician_id:
            raise DisputeActionForbidden("Only the job's customer opens a dispute over it")
        raise DisputedRepairNotFound
    _check_repair_disputable(repair)
    payment = await _held_payment(repair.payment_id)
    if payment.escrow_status is EscrowStatus.RELEASED:
        await _check_disputable_after_release(repair.id, payment)
    return _Disputed(repair.id, repair.customer_id, payment, repair_id=repair.id,
                     technician_id=payment.payee_id)


def _check_repair_disputable(repair: Repair) -> None:
    """A paid job is disputable from payment until the window after its completion closes."""
    if repair.payment_id is None:
        raise RepairNotDisputable("Only a paid repair job can be disputed",
                                  {"status": repair.status.value, "paymentId": None})
    if repair.status is RepairStatus.COMPLETED:
        _check_window(repair.completed_at or repair.updated_at, "completion")


async def _held_payment(payment_id: str | None) -> Payment:
    payment = await payments_service.get_payment(payment_id) if payment_id else None
    if payment is None or payment.escrow_status is EscrowStatus.PENDING:
        raise OrderNotDisputable("The payment is not held in escrow",
                                 {"escrowStatus": payment.escrow_status.value if payment else None})
    return payment


async def _open(actor: Actor, data: DisputeCreate, disputed: _Disputed) -> DisputeView:
    payment = disputed.payment
    released = payment.escrow_status is EscrowStatus.RELEASED
    dispute = Dispute(
        order_id=disputed.order_id, repair_id=disputed.repair_id, payment_id=payment.id,
        buyer_id=disputed.buyer_id, dealer_id=disputed.dealer_id,
        technician_id=disputed.technician_id, reason=data.reason, details=data.details,
        open_key=disputed.subject_id,
        # Released already: what the buyer could still get back (a refund after release).
        amount_in_dispute=(payment.amount_captured - payment.amount_refunded) if released
        else payments_service.held_amount(payment),
        escrow_status_before=payment.escrow_status.value,
    )
    document = {"_id": dispute.id,
                **dispute.model_dump(exclude={"id", "revision_id"}),
                "status_history": [history(None, DisputeAction.OPEN, actor)]}
    subject = ({"orderId": disputed.order_id} if disputed.order_id
               else {"repairId": disputed.repair_id})

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
            metadata={**subject, "paymentId": payment.id,
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
        existing = await repository.open_dispute_id(disputed.subject_id)
        raise DisputeAlreadyOpen(data={"disputeId": existing, **subject}) from None
    for hook in _opened_hooks:
        try:
            await hook(disputed.subject_id)
        except Exception:
            log.exception("a dispute-opened hook failed", extra={"jobId": disputed.subject_id})
    return await get_visible(actor, dispute.id)
