"""Resolutions no rule skips: the second finance approval above the threshold, the ops_lead
override before delivery (which closes the order), and disputes after an early release."""

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from app.payments.ledger import accounts
from app.payments.models import Refund, RefundStatus
from tests.disputes.factories import Disputes
from tests.helpers import assert_error
from tests.orders import factories as order_factories
from tests.payments.factories import Payments, balance, escrow_of

ABOVE_THRESHOLD = 5_100_000  # ESCROW_RELEASE_APPROVAL_THRESHOLD is 5,000,000 paise


async def test_release_to_dealer_above_the_threshold_waits_for_a_finance_approval(
    pay: Payments, disputes: Disputes
):
    purchase = await pay.delivered(b2c=ABOVE_THRESHOLD)
    payment_id, amount = purchase.payment["id"], purchase.payment["amount"]
    dispute = await disputes.opened(purchase)
    ops = await disputes.lead()

    decided = await disputes.resolve(dispute["id"], "release_to_dealer",
                                     note="Delivery photo shows an intact screen")

    assert decided.status_code == 202, decided.text
    body = decided.json()
    assert body["success"] is True and "first approval" in body["message"]
    assert body["data"]["status"] == "resolving"
    assert body["data"]["resolution"]["releaseAmount"] == amount
    payment = await pay.payment(payment_id)
    assert payment["escrowStatus"] == "disputed" and payment["amountReleased"] == 0
    assert payment["releaseApproval"]["requestedBy"] == ops.id
    assert payment["releaseApproval"]["disputeId"] == dispute["id"]
    assert await escrow_of(payment_id) == amount
    assert await balance(accounts.payable(purchase.shop.dealer_id)) == 0

    # Retrying the decision records nothing new; ops cannot release it themselves.
    again = await disputes.resolve(dispute["id"], "release_to_dealer",
                                   note="Delivery photo shows an intact screen")
    assert again.status_code == 202, again.text
    assert_error(await pay.release(payment_id, ops), 403)
    assert (await pay.payment(payment_id))["escrowStatus"] == "disputed"

    finance = await pay.finance()
    approved = await pay.release(payment_id, finance)

    assert approved.status_code == 200, approved.text
    assert approved.json()["data"]["escrowStatus"] == "released"
    assert await escrow_of(payment_id) == 0
    split = approved.json()["data"]["commissionBreakdown"]
    assert await balance(accounts.payable(purchase.shop.dealer_id)) == split["dealerShare"]
    resolved = (await disputes.get(dispute["id"], purchase.buyer)).json()["data"]
    assert resolved["status"] == "resolved"
    assert resolved["resolution"]["releasedAmount"] == amount
    assert resolved["resolution"]["dealerShare"] == split["dealerShare"]
    assert await pay.order_status(purchase) == "completed"
    entry = (await disputes.audited("dispute.resolved", dispute["id"]))[0]
    assert entry["actorId"] == finance.id
    assert entry["metadata"]["decidedBy"] == ops.id
    await pay.ledger_is_valid()


async def test_a_dispute_resolved_before_delivery_is_an_override_that_completes_the_order(
    pay: Payments, disputes: Disputes
):
    purchase = await pay.paid()
    order_id, payment_id, amount = (purchase.order["id"], purchase.payment["id"],
                                    purchase.payment["amount"])
    dispute = await disputes.opened(purchase)
    note = "Dealer proved dispatch; buyer keeps a goodwill credit"
    plain_ops = await disputes.resolve(dispute["id"], "split", buyer_amount=10_000, note=note,
                                       admin=await pay.api.admin("ops"))
    assert assert_error(plain_ops, 403)["data"] == {"orderStatus": "paid"}
    assert (await disputes.get(dispute["id"], purchase.buyer)).json()["data"]["status"] == "open"

    response = await disputes.resolve(dispute["id"], "split", buyer_amount=10_000, note=note)

    assert response.status_code == 200, response.text
    resolved = response.json()["data"]
    assert resolved["status"] == "resolved" and resolved["resolution"]["override"] is True
    assert resolved["resolution"]["releasedAmount"] == amount - 10_000
    order = (await order_factories.get(pay.api, purchase.buyer, order_id)).json()["data"]
    assert order["status"] == "completed"
    last = order["statusHistory"][-1]
    assert last["from"] == "paid" and last["to"] == "completed"
    assert last["action"] == "resolve" and last["override"] is True
    assert last["reason"] == note
    payment = await pay.payment(payment_id)
    assert payment["escrowStatus"] == "released" and payment["amountRefunded"] == 10_000
    for action, subject in (("payment.released", payment_id), ("dispute.resolved", dispute["id"]),
                            ("dispute.resolution_started", dispute["id"]),
                            ("order.resolve", order_id)):
        entry = (await disputes.audited(action, subject))[0]
        assert entry["override"] is True and entry["reason"] == note, (action, entry)
    await pay.ledger_is_valid()


async def test_a_full_refund_by_a_dispute_before_shipping_cancels_and_restocks(
    pay: Payments, disputes: Disputes, mongo_db: AsyncDatabase
):
    purchase = await pay.paid()
    order_id = purchase.order["id"]
    product_id = purchase.order["items"][0]["productId"]
    dispute = await disputes.opened(purchase)

    response = await disputes.resolve(dispute["id"], "refund_buyer", note="Dealer out of stock")

    assert response.status_code == 200, response.text
    assert response.json()["data"]["status"] == "resolved"
    doc = await order_factories.order_doc(mongo_db, order_id)
    assert doc["status"] == "cancelled" and doc["stock_state"] == "returned"
    assert await order_factories.stock(mongo_db, product_id) == {
        "quantity": 10, "reserved": 0, "available": 10}
    await pay.ledger_is_valid()


async def test_a_dispute_after_an_early_finance_release_is_settled_by_a_refund_after_release(
    pay: Payments, disputes: Disputes
):
    purchase = await pay.delivered()
    payment_id, amount = purchase.payment["id"], purchase.payment["amount"]
    assert (await pay.release(payment_id)).status_code == 200
    assert await pay.order_status(purchase) == "completed"

    dispute = await disputes.opened(purchase)

    assert dispute["status"] == "open" and dispute["amountInDispute"] == amount
    assert (await pay.payment(payment_id))["escrowStatus"] == "released"
    assert (await disputes.audited("dispute.opened", dispute["id"]))[0]["metadata"][
        "afterRelease"] is True

    response = await disputes.resolve(dispute["id"], "split", buyer_amount=20_000,
                                      note="Screen has a dead pixel line")

    assert response.status_code == 200, response.text
    outcome = response.json()["data"]["resolution"]
    assert response.json()["data"]["status"] == "resolved"
    assert outcome["afterRelease"] is True and outcome["override"] is False
    assert outcome["refundedAmount"] == 20_000 and outcome["releasedAmount"] == 0
    refund = await Refund.get(outcome["refundId"])
    assert refund is not None and refund.amount == 20_000
    assert refund.status is RefundStatus.PROCESSED
    payment = await pay.payment(payment_id)
    assert payment["escrowStatus"] == "released" and payment["amountRefunded"] == 20_000
    assert payment["status"] == "partially_refunded"
    assert await pay.order_status(purchase) == "completed"
    # Resolved once: the order cannot be disputed again.
    assert_error(await disputes.open(purchase), 409)
    await pay.ledger_is_valid()


@pytest.mark.settings(escrow={"dispute_window_days": 0})
async def test_an_early_release_does_not_extend_a_closed_window(pay: Payments, disputes: Disputes):
    purchase = await pay.delivered()
    assert (await pay.release(purchase.payment["id"])).status_code == 200

    body = assert_error(await disputes.open(purchase), 422)

    assert "dispute window closed" in body["message"]
    assert (await pay.payment(purchase.payment["id"]))["amountRefunded"] == 0
