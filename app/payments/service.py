"""Taking payments into escrow: creation, verification, webhooks, reconciliation, reads.

Other domains (and the router) reach payments only through this module, which also exposes
the escrow use cases: release, holds and dispute freezes, refunds."""

import logging
from datetime import datetime, timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from app.alerts import service as alerts
from app.alerts.models import AlertKind
from app.audit import service as audit
from app.core import clock
from app.core.config import settings
from app.core.database import Session, transaction
from app.core.errors import IllegalTransition
from app.core.permissions import SYSTEM_ACTOR, Actor
from app.orders.models import Order
from app.payments import commission, outcomes, refunds, repository
from app.payments.changes import change_payment
from app.payments.event_handlers import handler_for
from app.payments.event_handlers import register_event_handler as register_event_handler
from app.payments.exceptions import (
    AlreadyPaid,
    GatewayDown,
    GatewayRefused,
    InvalidSignature,
    PaymentNotCaptured,
    PaymentNotFound,
)
from app.payments.gateway.base import GatewayPayment, GatewayPaymentStatus
from app.payments.gateway.exceptions import GatewayError, GatewayUnavailable
from app.payments.gateway.webhooks import WebhookEvent, parse_webhook_event
from app.payments.gateway_access import gateway
from app.payments.holds import freeze_for_dispute as freeze_for_dispute
from app.payments.holds import set_hold as set_hold
from app.payments.ledger import accounts
from app.payments.ledger import service as ledger
from app.payments.models import EscrowStatus, PayableType, Payment, PaymentStatus
from app.payments.payables import payable_of
from app.payments.refunds import refund as refund
from app.payments.release import DisputeReleased as DisputeReleased
from app.payments.release import ReleaseOutcome as ReleaseOutcome
from app.payments.release import register_release_hook as register_release_hook
from app.payments.release import release as release
from app.payments.transitions import CAPTURABLE
from app.payments.transitions import held_amount as held_amount
from app.platform_rules import service as platform_rules_service
from app.risk import rules as risk_rules
from app.risk import service as risk
from app.risk.models import Assessment, RiskEvent

log = logging.getLogger(__name__)


async def get_payment(payment_id: str) -> Payment:
    """A payment by id (system scope), or 404."""
    return await repository.get_existing(payment_id)


async def get_visible(actor: Actor, payment_id: str) -> Payment:
    """The payer, the payee (dealer or technician) and admins see a payment; others 404."""
    payment = await repository.get_visible(actor, payment_id)
    if payment is None:
        raise PaymentNotFound
    return payment


async def refund_when_order_cancelled(session: Session, order: Order) -> None:
    """Orders' cancellation hook: a paid order's escrow goes back to the buyer."""
    if order.payment_id:
        await refunds.refund_cancelled_order(session, order.payment_id)


# --- creation --------------------------------------------------------------------------


async def create_payment(
    actor: Actor, payable_id: str, payable_type: PayableType = PayableType.ORDER
) -> Payment:
    """Validate the payable (an order: its stock kept reserved; a repair: its accepted quote)
    and open a gateway order for its total."""
    payable = payable_of(payable_type)
    async with platform_rules_service.read_once():  # pricing and commission: one read
        terms = await payable.terms_for_payment(actor, payable_id)
        existing = await repository.open_payment_for(payable_type, payable_id)
        if existing is not None and existing.status is not PaymentStatus.CREATED:
            raise AlreadyPaid
        minutes = settings().escrow.payment_reservation_minutes
        placed_at = terms.placed_at
        if existing is not None:
            await transaction(
                lambda session: payable.keep_reserved(session, payable_id, minutes, placed_at))
            return existing
        rate_bps = await payable.commission_rate_bps(terms.payee_commission_tier)
    payment = Payment(
        payable_type=payable_type, payable_id=payable_id, payer_id=terms.payer_id,
        payee_id=terms.payee_id, amount=terms.amount, subtotal=terms.subtotal,
        delivery_charge=terms.delivery_charge, service_fee=terms.service_fee,
        currency=gateway().currency, gateway_order_id="pending",
        awaiting_capture_of=f"{payable_type.value}:{payable_id}",
        commission_breakdown=commission.breakdown(
            terms.subtotal, terms.delivery_charge, terms.service_fee, rate_bps
        ),
    )
    gateway_order = await _gateway_call(
        gateway().create_order(terms.amount, receipt=payment.id,
                               notes={"paymentId": payment.id, payable.field: payable_id})
    )
    payment.gateway_order_id = gateway_order.id

    async def work(session: Session) -> Payment:
        await repository.insert(session, payment)
        await payable.keep_reserved(session, payable_id, minutes, placed_at)
        await audit.record(
            session, actor=actor, action="payment.created", subject_type="payment",
            subject_id=payment.id, changes={"status": {"from": None, "to": payment.status}},
            metadata={payable.field: payable_id, "amount": payment.amount,
                      "gatewayOrderId": gateway_order.id},
        )
        return payment

    try:
        return await transaction(work)
    except DuplicateKeyError:
        # A concurrent start for the same payable won; its payment is the one to pay.
        winner = await repository.open_payment_for(payable_type, payable_id)
        if winner is None:
            raise
        return winner


async def _gateway_call(call: Any) -> Any:
    try:
        return await call
    except GatewayUnavailable as error:
        raise GatewayDown(data={"gateway": error.description}) from None
    except GatewayError as error:
        raise GatewayRefused(
            f"The payment gateway refused the request: {error.description}",
            {"gatewayCode": error.code},
        ) from None


# --- capture: /verify, webhooks and reconciliation all end here ------------------------


async def verify_checkout(
    actor: Actor | None, gateway_order_id: str, gateway_payment_id: str, signature: str
) -> Payment:
    payment = await repository.find_by_gateway_order(gateway_order_id)
    if payment is None:
        raise PaymentNotFound
    if not gateway().verify_payment_signature(payment.gateway_order_id, gateway_payment_id,
                                              signature):
        await audit.record(
            None, actor=actor or SYSTEM_ACTOR, action="payment.signature_invalid",
            subject_type="payment", subject_id=payment.id,
            reason="Suspected fraud: checkout signature did not verify",
            metadata={"gatewayOrderId": gateway_order_id, "gatewayPaymentId": gateway_payment_id},
        )
        raise InvalidSignature
    if payment.status is PaymentStatus.CAPTURED and payment.gateway_payment_id == gateway_payment_id:
        return payment
    captured = await _captured_at_gateway(payment, gateway_payment_id)
    held = await apply_capture(payment, captured, actor or SYSTEM_ACTOR, source="verify")
    # Someone else (the webhook) applied it first, or it was refunded as unpayable: as stored.
    return held if held is not None else await get_payment(payment.id)


async def _captured_at_gateway(payment: Payment, gateway_payment_id: str) -> GatewayPayment:
    """Confirm with the gateway that this payment is captured, for the full amount."""
    found = await _gateway_call(gateway().fetch_payment(gateway_payment_id))
    if found.order_id != payment.gateway_order_id:
        raise InvalidSignature("The payment does not belong to this order")
    if found.status is GatewayPaymentStatus.AUTHORIZED:
        found = await _gateway_call(gateway().capture(gateway_payment_id, payment.amount))
    if found.status is not GatewayPaymentStatus.CAPTURED or found.amount != payment.amount:
        raise PaymentNotCaptured(
            data={"gatewayStatus": found.status.value, "gatewayAmount": found.amount,
                  "expectedAmount": payment.amount}
        )
    return found


async def apply_capture(
    payment: Payment, captured: GatewayPayment, actor: Actor, source: str
) -> Payment | None:
    """Record a confirmed capture once: payment captured, escrow held, order paid, ledger
    gateway clearing → escrow; then what follows from the payable being paid (the order's
    stock sold). `payment` as just read: the capture is guarded on its status in the
    database, not on this copy. Returns the payment as captured (for a payable that could
    no longer be paid: captured with its full refund reserved), or None when the capture
    had already been applied."""
    if payment.status not in CAPTURABLE:
        return None
    payable = payable_of(payment.payable_type)
    assessment = await _screen_capture(payment)
    try:
        held = await transaction(lambda session: _capture(session, payment, captured, actor,
                                                          source, mark_paid=True,
                                                          assessment=assessment))
    except IllegalTransition:
        # The order can no longer be paid (it expired or was cancelled meanwhile): the capture
        # and a full refund of it are one transaction, so the money is never left held; the
        # refund dispatch job sends the reserved refund if the call below does not.
        refund_id = unpayable_refund_id(payment.id)
        applied = await transaction(lambda session: _capture_and_refund(
            session, payment, captured, actor, source, refund_id))
        if applied:
            try:
                await refunds.dispatch_refund(refund_id)
            except Exception:
                log.exception("sending the refund of an unpayable capture failed; "
                              "the dispatch job retries it", extra={"refundId": refund_id})
            return await get_payment(payment.id)  # captured, and its refund reserved
        return None
    if held is not None:
        await risk.alert(assessment, "payment", payment.id)
        try:
            await payable.after_paid(payment.payable_id)
        except Exception:
            # The money is held and the order paid; its stock stays reserved for it until
            # the reservation reconciler commits it.
            log.exception("committing what follows a capture failed; the reconciler retries",
                          extra={"paymentId": payment.id, "payableId": payment.payable_id})
    return held


async def _screen_capture(payment: Payment) -> Assessment:
    """The fraud checks of a capture: the payer's failed payments of the last hour."""
    since = clock.utcnow() - timedelta(hours=1)
    failures = await repository.failures_since(payment.payer_id, since)
    return risk.assess(RiskEvent.PAYMENT_CAPTURE,
                       [risk_rules.payment_failures(risk.risk_settings(), failures)])


def unpayable_refund_id(payment_id: str) -> str:
    """The one refund of a capture that arrived for a payable that can no longer be paid."""
    return f"rfd_unpayable_{payment_id}"


async def _capture_and_refund(
    session: Session, payment: Payment, captured: GatewayPayment, actor: Actor, source: str,
    refund_id: str,
) -> bool:
    if await _capture(session, payment, captured, actor, source, mark_paid=False) is None:
        return False
    held = await repository.get_existing(payment.id, session=session)
    kind = payable_of(payment.payable_type).kind.value
    await refunds.reserve_refund(session, SYSTEM_ACTOR, held, captured.amount,
                                 f"{kind} was no longer payable when paid", refund_id)
    return True


async def _capture(
    session: Session, payment: Payment, captured: GatewayPayment, actor: Actor, source: str,
    mark_paid: bool, assessment: Assessment | None = None,
) -> Payment | None:
    """The capture's writes; the payment as they leave it, or None if it was not capturable."""
    now = _stored_precision(clock.utcnow())
    applied = await change_payment(
        session, actor, payment,
        guard={"status": {"$in": [s.value for s in CAPTURABLE]}},
        fields={"status": PaymentStatus.CAPTURED.value, "escrow_status": EscrowStatus.HELD.value,
                "gateway_payment_id": captured.id, "amount_captured": captured.amount,
                "captured_at": now, "failure_reason": None, "updated_at": now},
        unset=("awaiting_capture_of",),
        action="payment.captured",
        changes={"status": {"from": payment.status, "to": PaymentStatus.CAPTURED},
                 "escrowStatus": {"from": payment.escrow_status, "to": EscrowStatus.HELD}},
        metadata={"amount": captured.amount, "gatewayPaymentId": captured.id, "via": source},
    )
    if not applied:
        return None
    await ledger.post(
        session, key=f"capture:{payment.id}", kind="capture", actor=actor,
        transfers=[ledger.Transfer(accounts.GATEWAY_CLEARING, accounts.escrow(payment.id),
                                   captured.amount)],
        payment_id=payment.id, recipient_id=payment.payee_id,
        metadata={"gatewayPaymentId": captured.id},
    )
    if mark_paid:
        await payable_of(payment.payable_type).mark_paid(session, payment.payable_id, payment.id)
    flags: list[str] = []
    if assessment is not None and assessment.flags:
        flags = assessment.codes
        await repository.add_risk_flags(session, payment.id, flags)
        await risk.record(session, actor, assessment, "payment", payment.id, "alert")
    # Exactly what the guarded update stored, so /verify answers without reading it back.
    return payment.model_copy(update={
        "status": PaymentStatus.CAPTURED, "escrow_status": EscrowStatus.HELD,
        "gateway_payment_id": captured.id, "amount_captured": captured.amount,
        "captured_at": now, "failure_reason": None, "awaiting_capture_of": None,
        "risk_flags": [*payment.risk_flags, *(f for f in flags if f not in payment.risk_flags)],
        "version": payment.version + 1, "updated_at": now,
    })


def _stored_precision(moment: datetime) -> datetime:
    """`moment` as the database keeps it (BSON dates hold milliseconds)."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


async def apply_failure(payment: Payment, failed: GatewayPayment, actor: Actor) -> bool:
    """Forward-only: a failure never undoes a capture; it only closes a `created` payment."""

    return await transaction(lambda session: change_payment(
        session, actor, payment, guard={"status": PaymentStatus.CREATED.value},
        fields={"status": PaymentStatus.FAILED.value,
                "failure_reason": failed.error_description or "payment failed"},
        unset=("awaiting_capture_of",),
        action="payment.failed",
        changes={"status": {"from": PaymentStatus.CREATED, "to": PaymentStatus.FAILED}},
        metadata={"gatewayPaymentId": failed.id, "error": failed.error_description},
    ))


# --- webhooks --------------------------------------------------------------------------


async def receive_webhook(raw_body: bytes, signature: str | None, event_id: str | None) -> str:
    """Apply a signed gateway event once; returns what happened (for the response)."""
    if not signature or not gateway().verify_webhook_signature(raw_body, signature):
        # Counted into one alert per window, never audited one by one: anyone can send these,
        # and an entry each would let them fill the permanent audit log.
        await alerts.count_in_window(
            AlertKind.WEBHOOK_BAD_SIGNATURES, "webhook",
            "Gateway webhooks with a signature that did not verify (suspected forgery)",
            settings().payments.webhook_alert_window_seconds,
        )
        raise InvalidSignature("Webhook signature verification failed")
    if not event_id:
        raise InvalidSignature("X-Razorpay-Event-Id is required")
    if await repository.event_applied(event_id):
        return "duplicate"
    try:
        event = parse_webhook_event(raw_body, event_id)
    except GatewayError as error:
        raise InvalidSignature(f"Unreadable webhook: {error.description}") from None
    outcome = await _apply_event(event)
    if not await repository.record_event(event_id, event.event, outcome):
        return "duplicate"
    return outcome


async def _apply_event(event: WebhookEvent) -> str:
    if (handler := handler_for(event.event)) is not None:
        return await handler(event.event, event.payload)
    if event.event in ("payment.captured", "payment.failed") and event.payment:
        payment = await repository.find_by_gateway_order(event.payment.order_id)
        if payment is None:
            return "unknown_payment"
        if event.event == "payment.failed":
            return "failed" if await apply_failure(payment, event.payment, SYSTEM_ACTOR) else "ignored"
        if event.payment.amount != payment.amount:
            await alerts.raise_alert(
                AlertKind.CAPTURE_AMOUNT_MISMATCH, "payment", payment.id,
                f"The gateway captured {event.payment.amount} paise for a {payment.amount} "
                "paise payment; it was not applied",
                {"gatewayPaymentId": event.payment.id},
            )
            return "amount_mismatch"
        applied = await apply_capture(payment, event.payment, SYSTEM_ACTOR, source="webhook")
        return "captured" if applied is not None else "already_captured"
    if event.event in ("refund.processed", "refund.failed") and event.refund:
        return await outcomes.apply_refund_outcome(event.refund)
    return "ignored"


# --- reconciliation (missed webhooks) ----------------------------------------------------


async def reconcile(payment: Payment) -> str:
    """Ask the gateway what happened to a `created` payment and apply it."""
    attempts = await gateway().fetch_order_payments(payment.gateway_order_id)
    for attempt in attempts:
        if attempt.status is GatewayPaymentStatus.CAPTURED and attempt.amount == payment.amount:
            applied = await apply_capture(payment, attempt, SYSTEM_ACTOR, source="reconcile")
            return "captured" if applied is not None else "already_captured"
    if attempts and all(a.status is GatewayPaymentStatus.FAILED for a in attempts):
        await apply_failure(payment, attempts[-1], SYSTEM_ACTOR)
        return "failed"
    return "pending"


# --- reads -------------------------------------------------------------------------------
