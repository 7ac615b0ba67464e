"""The SLA job asks the gateway what a lost webhook would have said: refunds pending too long
are settled or reversed, and a failed payment that a later attempt captured is applied."""

from datetime import timedelta

import pytest

from app.audit.models import AuditEntry
from app.core import clock
from app.payments import tasks
from app.payments.ledger import accounts
from app.payments.models import Payment, Refund, RefundStatus
from tests.helpers import eventually
from tests.orders import factories as order_factories
from tests.payments.factories import Payments, Purchase, balance, escrow_of

REFUND = 10_000
PAST_REFUND_SLA = timedelta(minutes=16)
# The background SLA job runs once at start-up only: these tests run it themselves.
pytestmark = pytest.mark.settings(escrow={"job_interval_seconds": 3600})


async def _refund_settled_without_webhook(pay: Payments, outcome: str) -> tuple[Purchase, dict]:
    """A delivered purchase with a refund the gateway then settled, its webhook lost."""
    purchase = await pay.delivered()
    pay.live.sandbox.auto_process_refunds = False
    response = await pay.refund(purchase.payment["id"], REFUND)
    assert response.status_code == 201, response.text
    refund = response.json()["data"]
    assert refund["status"] == "pending" and refund["gatewayRefundId"]
    settled = await pay.sandbox("POST", f"/refunds/{refund['gatewayRefundId']}/settle",
                                json={"outcome": outcome, "deliverWebhook": False})
    assert settled.status_code == 200 and settled.json()["status"] == outcome
    return purchase, refund


async def _audited(action: str, subject_id: str) -> list[AuditEntry]:
    """Every audit entry of `action` on `subject_id`, chained or still pending."""
    return await AuditEntry.find({"action": action, "subject_id": subject_id}).to_list()


async def _alerts(pay: Payments, kind: str) -> list[dict]:
    listed = await pay.client.get("/api/admin/alerts", params={"kind": kind},
                                  headers=(await pay.finance()).headers)
    assert listed.status_code == 200, listed.text
    assert listed.json()["success"] is True
    return listed.json()["data"]["items"]


async def test_a_refund_whose_processed_webhook_was_lost_is_settled_by_the_sla_job(
    pay: Payments,
):
    purchase, refund = await _refund_settled_without_webhook(pay, "processed")
    payment_id = purchase.payment["id"]

    await tasks.enforce_payment_slas()  # too young: the webhook may still come
    assert (await Refund.get(refund["id"])).status is RefundStatus.PENDING
    refused = await pay.release(payment_id)
    assert refused.status_code == 409 and refused.json()["data"]["refundsInFlight"] == 1

    clock.advance(PAST_REFUND_SLA)
    await tasks.enforce_payment_slas()
    await tasks.enforce_payment_slas()  # a second run moves nothing twice

    record = await Refund.get(refund["id"])
    assert record.status is RefundStatus.PROCESSED
    assert record.gateway_refund_id == refund["gatewayRefundId"]
    stored = await Payment.get(payment_id)
    assert stored.refunds_in_flight == 0 and stored.amount_refunded == REFUND
    assert await balance(accounts.REFUNDS) == REFUND
    released = await pay.release(payment_id)
    assert released.status_code == 200, released.text
    assert released.json()["data"]["amountReleased"] == purchase.payment["amount"] - REFUND
    settled = await _audited("payment.refund_processed", payment_id)
    assert len(settled) == 1 and settled[0].metadata["refundId"] == refund["id"]
    await pay.ledger_is_valid()


async def test_a_refund_whose_failed_webhook_was_lost_is_reversed_by_the_sla_job(
    pay: Payments,
):
    purchase, refund = await _refund_settled_without_webhook(pay, "failed")
    payment_id = purchase.payment["id"]
    clock.advance(PAST_REFUND_SLA)

    await tasks.enforce_payment_slas()
    await tasks.enforce_payment_slas()

    assert (await Refund.get(refund["id"])).status is RefundStatus.FAILED
    current = await pay.payment(payment_id)
    assert current["amountRefunded"] == 0 and current["escrowStatus"] == "on_hold"
    assert await escrow_of(payment_id) == purchase.payment["amount"]
    assert await balance(accounts.REFUNDS) == 0
    assert [a["subjectId"] for a in await _alerts(pay, "refund_failed")] == [payment_id]
    await pay.ledger_is_valid()


async def test_a_refund_still_pending_at_the_gateway_stays_pending(pay: Payments):
    purchase = await pay.delivered()
    pay.live.sandbox.auto_process_refunds = False
    response = await pay.refund(purchase.payment["id"], REFUND)
    assert response.status_code == 201
    refund = response.json()["data"]
    clock.advance(PAST_REFUND_SLA)

    await tasks.enforce_payment_slas()

    record = await Refund.get(refund["id"])
    assert record.status is RefundStatus.PENDING and record.gateway_checked_at is not None
    assert (await Payment.get(purchase.payment["id"])).refunds_in_flight == 1
    # Still in flight: the money waits in the payment's in-flight account, not in refunds.
    assert await balance(accounts.refund_in_flight(purchase.payment["id"])) == REFUND
    assert await balance(accounts.REFUNDS) == 0
    await pay.ledger_is_valid()


async def _failed_then_captured_without_webhook(pay: Payments) -> Purchase:
    """The buyer's first attempt fails; a retry on the same gateway order is captured, and
    the capture's webhook never arrives."""
    purchase = await pay.started()
    failed = await pay.checkout(purchase, "failure")
    assert failed.status_code == 400
    await eventually(lambda: pay.payment(purchase.payment["id"]),
                     lambda p: p["status"] == "failed")
    retried = await pay.checkout(purchase, "success", deliver_webhook=False)
    assert retried.status_code == 200
    return purchase


async def test_a_failed_payment_captured_by_a_later_attempt_is_applied_and_alerted(
    pay: Payments,
):
    purchase = await _failed_then_captured_without_webhook(pay)
    payment_id, amount = purchase.payment["id"], purchase.payment["amount"]
    assert (await pay.payment(payment_id))["status"] == "failed"

    await tasks.enforce_payment_slas()
    clock.advance(timedelta(hours=2))
    await tasks.enforce_payment_slas()  # a later run: nothing moves twice

    current = await pay.payment(payment_id)
    assert current["status"] == "captured" and current["escrowStatus"] == "held"
    assert current["gatewayPaymentId"] == purchase.checkout["razorpay_payment_id"]
    assert current["failureReason"] is None
    assert await pay.order_status(purchase) == "paid"
    assert await escrow_of(payment_id) == amount
    alerts = await _alerts(pay, "payment_captured_after_failure")
    assert [a["subjectId"] for a in alerts] == [payment_id]
    assert alerts[0]["details"]["outcome"] == "applied"
    assert alerts[0]["details"]["orderId"] == purchase.order["id"]
    captured = await _audited("payment.captured", payment_id)
    assert len(captured) == 1 and captured[0].metadata["via"] == "reconcile"
    await pay.ledger_is_valid()


async def test_a_late_capture_for_a_cancelled_order_is_refunded_and_alerted(pay: Payments):
    purchase = await _failed_then_captured_without_webhook(pay)
    payment_id, amount = purchase.payment["id"], purchase.payment["amount"]
    cancelled = await order_factories.move(pay.api, purchase.buyer, purchase.order["id"],
                                           "cancel", reason="Bought elsewhere")
    assert cancelled.status_code == 200, cancelled.text

    await tasks.enforce_payment_slas()

    refunded = await eventually(lambda: pay.payment(payment_id),
                                lambda p: p["status"] == "refunded")
    assert refunded["escrowStatus"] == "refunded" and refunded["amountRefunded"] == amount
    assert await pay.order_status(purchase) == "cancelled"
    assert await escrow_of(payment_id) == 0
    assert await balance(accounts.REFUNDS) == amount
    alerts = await _alerts(pay, "payment_captured_after_failure")
    assert [a["subjectId"] for a in alerts] == [payment_id]
    assert alerts[0]["details"]["outcome"] == "refunded"
    await pay.ledger_is_valid()


async def test_failed_payments_older_than_the_window_are_left_alone(pay: Payments):
    purchase = await _failed_then_captured_without_webhook(pay)
    clock.advance(timedelta(hours=pay.live.config.escrow.payment_failed_reconcile_hours,
                            minutes=1))

    await tasks.enforce_payment_slas()

    stored = await Payment.get(purchase.payment["id"])
    assert stored.status.value == "failed" and stored.gateway_checked_at is None
    assert await escrow_of(purchase.payment["id"]) == 0
    assert await _alerts(pay, "payment_captured_after_failure") == []


async def test_two_failed_payments_of_one_order_leave_it_payable(pay: Payments):
    """Neither failed payment awaits capture any more: both sit outside the one-open-payment
    key at once, and a third start opens a new payment."""
    shop, buyer, order = await pay.order()
    failed_ids = []
    for _ in range(2):
        started = await pay.start(buyer, order["id"])
        assert started.status_code == 201, started.text
        payment = started.json()["data"]
        assert payment["id"] not in failed_ids
        refused = await pay.live.checkout(payment["gatewayOrderId"], "failure")
        assert refused.status_code == 400
        await eventually(lambda p=payment: pay.payment(p["id"]),
                         lambda p: p["status"] == "failed")
        failed_ids.append(payment["id"])

    third = await pay.start(buyer, order["id"])

    assert third.status_code == 201, third.text
    assert third.json()["data"]["id"] not in failed_ids
    docs = await Payment.find({"payable_id": order["id"]}).to_list()
    assert sorted(d.status.value for d in docs) == ["created", "failed", "failed"]
    assert [d.awaiting_capture_of for d in docs if d.status.value == "failed"] == [None, None]
