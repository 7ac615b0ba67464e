"""Asking the gateway what a lost webhook would have said, for the SLA job.

- A refund the gateway acknowledged but that is still `pending` here after
  `REFUND_RECONCILE_AFTER_MINUTES` is fetched (the SDK's refund fetch); a processed or failed
  answer is applied by the very function the `refund.processed` / `refund.failed` webhook
  uses, which changes a refund only while it is pending, so a webhook arriving late, or a
  second run, moves nothing twice. One still pending is asked again as often.
- A `failed` payment may still be captured by a later attempt on the same gateway order
  (Razorpay takes attempts on an order until it is paid). For `PAYMENT_FAILED_RECONCILE_HOURS`
  after its creation, each SLA run asks the gateway for the order's payments (least recently
  asked first); a capture found is applied like any other (the order is paid, or, if it can
  no longer be, the money is refunded) and alerted.
"""

import logging
from datetime import timedelta

from app.alerts import service as alerts
from app.alerts.models import AlertKind
from app.core import clock
from app.core.config import settings
from app.payments import outcomes, repository
from app.payments import service as payments
from app.payments.gateway.base import GatewayRefundStatus
from app.payments.gateway.exceptions import GatewayError
from app.payments.gateway_access import gateway
from app.payments.models import Payment, PaymentStatus

log = logging.getLogger(__name__)

REFUND_BATCH = 50
FAILED_BATCH = 50


async def reconcile_pending_refunds(limit: int = REFUND_BATCH) -> int:
    """Apply what the gateway says of refunds pending here too long; how many were settled or
    reversed."""
    now = clock.utcnow()
    after = timedelta(minutes=settings().escrow.refund_reconcile_after_minutes)
    applied = 0
    for record in await repository.pending_at_gateway_before(now - after, now - after, limit):
        await repository.mark_refund_checked(record.id, now)
        assert record.gateway_refund_id is not None
        try:
            answer = await gateway().fetch_refund(record.gateway_refund_id)
        except GatewayError as error:
            log.warning("could not fetch a pending refund from the gateway",
                        extra={"refundId": record.id, "error": error.description})
            continue
        if answer.status is GatewayRefundStatus.PENDING:
            continue
        try:
            outcome = await outcomes.apply_refund_outcome(answer)
        except Exception:  # one refund must not stop the others (or the rest of the SLA job)
            log.exception("could not apply a reconciled refund", extra={"refundId": record.id})
            continue
        log.info("pending refund reconciled", extra={"refundId": record.id, "outcome": outcome})
        applied += outcome in ("refund_processed", "refund_failed")
    return applied


async def reconcile_failed_payments(limit: int = FAILED_BATCH) -> int:
    """Apply captures found on the gateway orders of recently failed payments; how many."""
    config = settings().escrow
    now = clock.utcnow()
    since = now - timedelta(hours=config.payment_failed_reconcile_hours)
    checked_before = now - timedelta(seconds=config.job_interval_seconds)
    found = 0
    for payment in await repository.failed_to_recheck(since, checked_before, limit):
        await repository.mark_payment_checked(payment.id, now)
        try:
            outcome = await payments.reconcile(payment)
        except GatewayError as error:
            log.warning("could not fetch a failed payment's order from the gateway",
                        extra={"paymentId": payment.id, "error": error.description})
            continue
        except Exception:  # one payment must not stop the others (or the rest of the SLA job)
            log.exception("could not reconcile a failed payment", extra={"paymentId": payment.id})
            continue
        if outcome == "captured":
            found += 1
            await _alert_late_capture(await repository.get_existing(payment.id))
    return found


async def _alert_late_capture(payment: Payment) -> None:
    refunded = payment.amount_refunded > 0 or payment.status is not PaymentStatus.CAPTURED
    what = ("its order could no longer be paid, so the money goes back to the buyer"
            if refunded else "its order is now paid")
    await alerts.raise_alert(
        AlertKind.PAYMENT_CAPTURED_AFTER_FAILURE, "payment", payment.id,
        f"Payment {payment.id} had failed, but a later attempt on its gateway order captured "
        f"{payment.amount_captured} paise (webhook missed); {what}",
        {"orderId": payment.payable_id, "gatewayOrderId": payment.gateway_order_id,
         "gatewayPaymentId": payment.gateway_payment_id, "amount": payment.amount_captured,
         "outcome": "refunded" if refunded else "applied"},
    )
