"""Refunds that stay pending or fail at the gateway never let money drift or move twice."""

from app.payments.ledger import accounts
from tests.helpers import eventually
from tests.orders import factories as order_factories
from tests.payments.factories import Payments, balance, escrow_of


async def _pending_refund(pay: Payments, amount: int = 10_000):
    purchase = await pay.delivered()
    pay.live.sandbox.auto_process_refunds = False
    response = await pay.refund(purchase.payment["id"], amount)
    assert response.status_code == 201, response.text
    refund = response.json()["data"]
    assert refund["status"] == "pending" and refund["gatewayRefundId"]
    return purchase, refund


async def test_release_waits_while_a_refund_is_pending_at_the_gateway(pay: Payments):
    purchase, refund = await _pending_refund(pay)
    refused = await pay.release(purchase.payment["id"])
    assert refused.status_code == 409
    assert refused.json()["data"]["refundsInFlight"] == 1

    settled = await pay.sandbox("POST", f"/refunds/{refund['gatewayRefundId']}/settle",
                                json={"outcome": "processed"})
    assert settled.status_code == 200

    async def released():
        return await pay.release(purchase.payment["id"])

    done = await eventually(released, lambda r: r.status_code == 200)
    assert done.json()["data"]["amountReleased"] == purchase.payment["amount"] - 10_000
    await pay.ledger_is_valid()


async def test_failed_refund_puts_the_money_back_on_hold_and_alerts_finance(pay: Payments):
    purchase, refund = await _pending_refund(pay)
    failed = await pay.sandbox("POST", f"/refunds/{refund['gatewayRefundId']}/settle",
                               json={"outcome": "failed"})
    assert failed.status_code == 200

    current = await eventually(lambda: pay.payment(purchase.payment["id"]),
                               lambda p: p["amountRefunded"] == 0)
    assert current["escrowStatus"] == "on_hold"
    assert await escrow_of(purchase.payment["id"]) == purchase.payment["amount"]
    assert (await pay.release(purchase.payment["id"])).status_code == 409
    finance = await pay.finance()
    listed = await pay.client.get("/api/admin/alerts", params={"kind": "refund_failed"},
                                  headers=finance.headers)
    assert [a["subjectId"] for a in listed.json()["data"]["items"]] == [purchase.payment["id"]]
    await pay.ledger_is_valid()


async def test_refund_retried_with_the_same_key_after_a_failure_resumes_not_repeats(
    pay: Payments,
):
    purchase = await pay.paid()
    pay.live.sandbox.auto_process_refunds = False
    key = {"Idempotency-Key": "refund-retry-key-01"}
    first = await pay.refund(purchase.payment["id"], 10_000, **key)
    second = await pay.client.post(
        f"/api/payments/{purchase.payment['id']}/refunds",
        json={"amount": 10_000, "reason": "Damaged"},
        headers={**(await pay.finance()).headers, **key},
    )
    assert first.status_code == second.status_code == 201
    assert second.json()["data"]["id"] == first.json()["data"]["id"]
    assert (await pay.payment(purchase.payment["id"]))["amountRefunded"] == 10_000
    # Sent and not yet processed: in flight, not yet refunded for good.
    assert await balance(accounts.refund_in_flight(purchase.payment["id"])) == 10_000
    assert await balance(accounts.REFUNDS) == 0
    await pay.ledger_is_valid()


async def test_cancelling_after_an_early_override_release_is_refused(pay: Payments):
    purchase = await pay.paid()
    ops = await pay.api.admin("ops_lead")
    early = await pay.release(purchase.payment["id"], ops,
                              body={"override": True, "reason": "Dealer hardship, approved"})
    assert early.status_code == 200
    payable_before = await balance(accounts.payable(purchase.shop.dealer_id))

    cancelled = await order_factories.move(pay.api, purchase.buyer, purchase.order["id"],
                                           "cancel", reason="Changed my mind")
    assert cancelled.status_code == 409
    assert await pay.order_status(purchase) == "paid"
    assert await balance(accounts.payable(purchase.shop.dealer_id)) == payable_before
    refund = await pay.refund(purchase.payment["id"], 5_000)
    assert refund.status_code == 201
    # Split as the release was: 462 of it from the platform's commission.
    assert await balance(accounts.payable(purchase.shop.dealer_id)) == payable_before - 4_538
    await pay.ledger_is_valid()


async def test_cancelling_refunds_the_payment_that_paid_even_with_another_open(pay: Payments):
    shop, buyer, order = await pay.order()
    first = (await pay.start(buyer, order["id"])).json()["data"]
    second = await pay.client.post("/api/payments", json={"orderId": order["id"]},
                                   headers={**buyer.headers, "Idempotency-Key": "other-tab-0001"})
    assert second.status_code == 201
    paid = await pay.live.checkout(first["gatewayOrderId"], deliver_webhook=False)
    verified = await pay.client.post("/api/payments/verify", json=paid.json(),
                                     headers=buyer.headers)
    assert verified.status_code == 200
    cancelled = await order_factories.move(pay.api, buyer, order["id"], "cancel",
                                           reason="Ordered twice")
    assert cancelled.status_code == 200
    refunded = await eventually(lambda: pay.payment(first["id"]),
                                lambda p: p["status"] == "refunded")
    assert refunded["escrowStatus"] == "refunded"
    assert await escrow_of(first["id"]) == 0
    await pay.ledger_is_valid()
