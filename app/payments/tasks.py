"""Background work of the payments domain: refunds to send, escrow to release, SLAs."""

from datetime import timedelta

from app.alerts import service as alerts
from app.alerts.models import AlertKind
from app.core import clock
from app.core.config import Settings, settings
from app.core.jobs import PeriodicJob
from app.payments import escrow
from app.payments import service as payments
from app.payments.models import Payment, PaymentStatus

SLA_BATCH = 100


async def enforce_payment_slas() -> bool:
    """Reconcile payments `created` for too long (a missed webhook is applied) and alert on
    those still stuck; escalate escrow held past its SLA."""
    now = clock.utcnow()
    config = settings().escrow
    stuck_before = now - timedelta(minutes=config.payment_stuck_after_minutes)
    stuck = await Payment.find(
        {"status": PaymentStatus.CREATED.value, "created_at": {"$lte": stuck_before}}
    ).sort("created_at").limit(SLA_BATCH).to_list()
    for payment in stuck:
        if await payments.reconcile(payment) == "pending":
            await alerts.raise_alert(
                AlertKind.PAYMENT_STUCK, "payment", payment.id,
                f"Payment {payment.id} still awaits capture after the SLA",
                {"amount": payment.amount, "gatewayOrderId": payment.gateway_order_id},
            )
    overdue_before = now - timedelta(days=config.held_sla_days)
    overdue = await Payment.find(
        {"escrow_status": {"$in": [s.value for s in escrow.HOLDING]},
         "captured_at": {"$lte": overdue_before}}
    ).limit(SLA_BATCH).to_list()
    for payment in overdue:
        await alerts.raise_alert(
            AlertKind.ESCROW_OVERDUE, "payment", payment.id,
            f"Escrow of {payment.id} has been {payment.escrow_status.value} past its SLA",
            {"amount": payment.amount_captured, "escrowStatus": payment.escrow_status.value},
        )
    return False


async def release_due_escrow() -> bool:
    await escrow.release_due_payments()
    return False


def jobs(config: Settings) -> list[PeriodicJob]:
    interval = config.escrow.job_interval_seconds
    return [
        PeriodicJob("refund-dispatch", escrow.dispatch_pending_refunds, interval=5,
                    wake=escrow.refunds_reserved),
        PeriodicJob("escrow-auto-release", release_due_escrow, interval=interval),
        PeriodicJob("payment-sla", enforce_payment_slas, interval=interval),
    ]
