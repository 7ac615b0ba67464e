"""Opening a dispute: who may, when, once per order; it freezes the escrow."""

import asyncio

import pytest

from tests.disputes.factories import Disputes
from tests.helpers import assert_error, field_errors
from tests.orders import factories as order_factories
from tests.payments.factories import Payments, escrow_of


async def test_buyer_disputes_a_delivered_order_and_the_escrow_is_frozen(
    pay: Payments, disputes: Disputes
):
    purchase = await pay.delivered()
    payment_id, amount = purchase.payment["id"], purchase.payment["amount"]

    response = await disputes.open(purchase, reason="not_as_described")

    assert response.status_code == 201, response.text
    dispute = response.json()["data"]
    assert dispute["status"] == "open" and dispute["reason"] == "not_as_described"
    assert dispute["orderId"] == purchase.order["id"] and dispute["paymentId"] == payment_id
    assert dispute["buyerId"] == purchase.buyer.id
    assert dispute["dealerId"] == purchase.shop.dealer_id
    assert dispute["amountInDispute"] == amount
    assert dispute["resolution"] is None
    assert (await pay.payment(payment_id))["escrowStatus"] == "disputed"
    assert await escrow_of(payment_id) == amount
    await pay.ledger_is_valid()

    opened = await disputes.audited("dispute.opened", dispute["id"])
    assert opened[0]["actorId"] == purchase.buyer.id
    assert opened[0]["changes"]["escrowStatus"] == {"from": "held", "to": "disputed"}
    assert opened[0]["reason"] == dispute["details"]
    frozen = await disputes.audited("payment.dispute_frozen", payment_id)
    assert frozen[0]["metadata"]["disputeId"] == dispute["id"]


async def test_a_disputed_escrow_cannot_be_released_or_refunded_by_the_normal_routes(
    pay: Payments, disputes: Disputes
):
    purchase = await pay.delivered()
    payment_id, amount = purchase.payment["id"], purchase.payment["amount"]
    await disputes.opened(purchase)

    release = await pay.release(payment_id)
    refund = await pay.refund(payment_id, 1_000)

    assert_error(release, 409)
    assert_error(refund, 409)
    current = await pay.payment(payment_id)
    assert current["escrowStatus"] == "disputed"
    assert current["amountRefunded"] == 0 and current["amountReleased"] == 0
    assert await escrow_of(payment_id) == amount
    assert await pay.order_status(purchase) == "delivered"
    await pay.ledger_is_valid()


async def test_a_second_dispute_on_the_same_order_is_409(pay: Payments, disputes: Disputes):
    purchase = await pay.delivered()
    first = await disputes.opened(purchase)

    again = await disputes.open(purchase, reason="other")

    body = assert_error(again, 409)
    assert body["data"]["disputeId"] == first["id"]


async def test_concurrent_disputes_on_one_order_open_exactly_one(
    pay: Payments, disputes: Disputes
):
    purchase = await pay.delivered()

    responses = await asyncio.gather(*(disputes.open(purchase) for _ in range(6)))

    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1 and set(codes) == {201, 409}, codes
    buyer_list = await pay.client.get("/api/disputes", headers=purchase.buyer.headers)
    assert len(buyer_list.json()["data"]["items"]) == 1
    assert (await pay.payment(purchase.payment["id"]))["escrowStatus"] == "disputed"
    await pay.ledger_is_valid()


async def test_another_buyers_order_is_404(pay: Payments, disputes: Disputes):
    purchase = await pay.delivered()
    stranger = await pay.api.customer()

    assert_error(await disputes.open(purchase, as_=stranger), 404)
    missing = await pay.client.post(
        "/api/disputes", json={"orderId": "ord_missing", "reason": "other",
                               "details": "Never arrived at all."},
        headers=stranger.headers)
    assert_error(missing, 404)
    assert (await pay.payment(purchase.payment["id"]))["escrowStatus"] == "held"


async def test_the_dealer_and_admins_cannot_open_a_dispute(pay: Payments, disputes: Disputes):
    purchase = await pay.delivered()

    assert_error(await disputes.open(purchase, as_=purchase.shop.account), 403)
    assert_error(await disputes.open(purchase, as_=await disputes.lead()), 403)
    assert (await pay.payment(purchase.payment["id"]))["escrowStatus"] == "held"


@pytest.mark.settings(escrow={"dispute_window_days": 0})
async def test_a_dispute_after_the_window_closes_is_refused(pay: Payments, disputes: Disputes):
    purchase = await pay.delivered()

    response = await disputes.open(purchase)

    body = assert_error(response, 422)
    assert "dispute window closed" in body["message"]
    assert body["data"]["disputeWindowDays"] == 0
    assert (await pay.payment(purchase.payment["id"]))["escrowStatus"] == "held"


async def test_a_paid_order_can_be_disputed_before_delivery_and_then_not_cancelled(
    pay: Payments, disputes: Disputes
):
    purchase = await pay.paid()
    dispute = await disputes.opened(purchase)
    assert (await pay.payment(purchase.payment["id"]))["escrowStatus"] == "disputed"

    cancel = await order_factories.move(pay.api, purchase.buyer, purchase.order["id"],
                                        "cancel", reason="Changed my mind")

    body = assert_error(cancel, 409)
    assert body["data"]["disputeId"] == dispute["id"]
    assert await pay.order_status(purchase) == "paid"
    current = await pay.payment(purchase.payment["id"])
    assert current["escrowStatus"] == "disputed" and current["amountRefunded"] == 0
    await pay.ledger_is_valid()


async def test_an_unpaid_order_cannot_be_disputed(pay: Payments, disputes: Disputes):
    shop, buyer, order = await pay.order()
    response = await pay.client.post(
        "/api/disputes", json={"orderId": order["id"], "reason": "other",
                               "details": "The dealer never answered me."},
        headers=buyer.headers)

    body = assert_error(response, 409)
    assert body["data"]["status"] == "pending_payment"


async def test_a_manually_held_escrow_can_be_disputed(pay: Payments, disputes: Disputes):
    purchase = await pay.delivered()
    finance = await pay.finance()
    held = await pay.client.patch(f"/api/payments/{purchase.payment['id']}/hold",
                                  json={"hold": True, "reason": "KYC review"},
                                  headers=finance.headers)
    assert held.status_code == 200

    dispute = await disputes.opened(purchase)

    assert dispute["status"] == "open"
    assert (await pay.payment(purchase.payment["id"]))["escrowStatus"] == "disputed"


async def test_dispute_input_is_validated(pay: Payments, disputes: Disputes):
    purchase = await pay.delivered()

    assert field_errors(await disputes.open(purchase, details="too short")) == {"body.details"}
    assert field_errors(await disputes.open(purchase, reason="changed_mind")) == {"body.reason"}
    assert field_errors(await disputes.open(purchase, details="x" * 2001)) == {"body.details"}
    assert "body.amount" in field_errors(await disputes.open(purchase, amount=5))
    assert (await pay.payment(purchase.payment["id"]))["escrowStatus"] == "held"
