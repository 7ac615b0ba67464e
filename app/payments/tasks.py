"""Background work of the payments domain: refunds to send, escrow to release, SLAs."""

from datetime import timedelta

from app.alerts import service as alerts
from app.alerts.models import AlertKind
from app.core import clock
from app.core.config import Settings, settings
from app.core.errors import IllegalTransition
from app.core.jobs import PeriodicJob
from app.core.permissions import SYSTEM_ACTOR
from app.dealers import service as dealers_service
from app.payments import reconcile, refunds, repository
from app.payments import service as payments
from app.payments.exceptions import GatewayRefused, ReleaseNeedsAnotherApprover
from app.payments.models import PayableType, Payment
from app.payments.payables import payable_of
from app.payments.release import release
from app.technicians import service as technicians_service
from app.technicians.models import TechnicianStatus

TECHNICIAN_STOPPED = frozenset({TechnicianStatus.SUSPENDED, TechnicianStatus.BLOCKED})
SLA_BATCH = 100
RELEASE_BATCH = 100
REFUND_BATCH = 50


async def enforce_payment_slas() -> bool:
    """Reconcile payments `created` for too long (a missed webhook is applied) and alert on
    those still stuck; ask the gateway about refunds pending too long and failed payments a
    later attempt may have captured (reconcile.py); escalate escrow held past its SLA."""
    await reconcile.reconcile_pending_refunds()
    await reconcile.reconcile_failed_payments()
    now = clock.utcnow()
    config = settings().escrow
    stuck_before = now - timedelta(minutes=config.payment_stuck_after_minutes)
    for payment in await repository.created_before(stuck_before, SLA_BATCH):
        if await payments.reconcile(payment) == "pending":
            await alerts.raise_alert(
                AlertKind.PAYMENT_STUCK, "payment", payment.id,
                f"Payment {payment.id} still awaits capture after the SLA",
                {"amount": payment.amount, "gatewayOrderId": payment.gateway_order_id},
            )
    overdue_before = now - timedelta(days=config.held_sla_days)
    for payment in await repository.holding_captured_before(overdue_before, SLA_BATCH):
        await alerts.raise_alert(
            AlertKind.ESCROW_OVERDUE, "payment", payment.id,
            f"Escrow of {payment.id} has been {payment.escrow_status.value} past its SLA",
            {"amount": payment.amount_captured, "escrowStatus": payment.escrow_status.value},
        )
    return False


async def release_due_payments(limit: int = RELEASE_BATCH) -> int:
    """Release escrow whose delivery was confirmed more than the dispute window ago."""
    window = timedelta(days=settings().escrow.dispute_window_days)
    now = clock.utcnow()
    released = 0
    for payment_id in await repository.held_ids_captured_before(now - window, limit):
        payment = await repository.get_existing(payment_id)
        fulfilment = await payable_of(payment.payable_type).fulfilment(payment.payable_id)
        if not (fulfilment.delivered and fulfilment.delivered_at
                and fulfilment.delivered_at <= now - window):
            continue
        if await _payee_stopped(payment):
            continue
        try:
            outcome = await release(SYSTEM_ACTOR, payment.id)
        except (IllegalTransition, ReleaseNeedsAnotherApprover):
            continue
        if not outcome.executed:
            # Above the threshold the job never approves: two finance admins must release it.
            await alerts.raise_alert(
                AlertKind.RELEASE_AWAITS_APPROVAL, "payment", payment.id,
                f"Escrow of {payment.id} is due for release but needs two finance approvals",
                {"amount": payments.held_amount(payment), "orderId": payment.payable_id,
                 "firstApprover": payment.release_approval.requested_by
                 if payment.release_approval else None},
            )
        released += outcome.executed
    return released


async def _payee_stopped(payment: Payment) -> bool:
    """A suspended or blocked payee's escrow (a dealer's, a technician's) is never
    auto-released: admins are alerted (once per payment while the alert is open) and decide."""
    if payment.payable_type is PayableType.REPAIR:
        technician = await technicians_service.get_technician(payment.payee_id)
        if technician is None or technician.status not in TECHNICIAN_STOPPED:
            return False
        await alerts.raise_alert(
            AlertKind.ESCROW_DEALER_STOPPED, "payment", payment.id,
            f"Escrow of {payment.id} is due for release but its technician is "
            f"{technician.status.value}; an admin must decide it",
            {"technicianId": technician.id, "technicianStatus": technician.status.value,
             "repairId": payment.payable_id, "amount": payment.amount_captured},
        )
        return True
    dealer = await dealers_service.get_dealer(payment.payee_id)
    if dealer is None or dealer.status not in dealers_service.STOPPED:
        return False
    await alerts.raise_alert(
        AlertKind.ESCROW_DEALER_STOPPED, "payment", payment.id,
        f"Escrow of {payment.id} is due for release but its dealer is {dealer.status.value}; "
        "an admin must decide it",
        {"dealerId": dealer.id, "dealerStatus": dealer.status.value,
         "orderId": payment.payable_id, "amount": payment.amount_captured},
    )
    return True


async def release_due_escrow() -> bool:
    await release_due_payments()
    return False


async def dispatch_pending_refunds(limit: int = REFUND_BATCH) -> bool:
    """Send reserved refunds the gateway has not acknowledged yet; True when more may wait."""
    pending = await repository.unsent_refunds(limit)
    for record in pending:
        try:
            await refunds.dispatch_refund(record.id)
        except GatewayRefused:
            continue
    return len(pending) == limit


def jobs(config: Settings) -> list[PeriodicJob]:
    interval = config.escrow.job_interval_seconds
    return [
        PeriodicJob("refund-dispatch", dispatch_pending_refunds, interval=5,
                    wake=refunds.refunds_reserved),
        PeriodicJob("escrow-auto-release", release_due_escrow, interval=interval),
        PeriodicJob("payment-sla", enforce_payment_slas, interval=interval),
    ]
