"""Orders follow their money: a full refund before shipping cancels the order and restocks it;
a partial one leaves it shippable (through the live server and the gateway sandbox)."""

from pymongo.asynchronous.database import AsyncDatabase

from app.orders.service import FULL_REFUND_REASON
from tests.helpers import assert_error, eventually
from tests.orders import factories as order_factories
from tests.payments.factories import Payments, Purchase, escrow_of


async def _product_id(purchase: Purchase) -> str:
    return purchase.order["items"][0]["productId"]


async def test_a_full_refund_before_shipping_cancels_the_order_and_restocks_it(
    pay: Payments, mongo_db: AsyncDatabase
):
    purchase = await pay.paid()
    order_id, payment_id = purchase.order["id"], purchase.payment["id"]
    product_id = await _product_id(purchase)
    sold = await order_factories.stock(mongo_db, product_id)
    assert sold == {"quantity": 9, "reserved": 0, "available": 9}

    refunded = await pay.refund(payment_id, purchase.payment["amount"])

    assert refunded.status_code == 201, refunded.text
    body = refunded.json()
    assert body["success"] is True and body["data"]["amount"] == purchase.payment["amount"]
    order = (await order_factories.get(pay.api, purchase.buyer, order_id)).json()["data"]
    assert order["status"] == "cancelled" and order["allowedActions"] == []
    last = order["statusHistory"][-1]
    assert last["from"] == "paid" and last["to"] == "cancelled"
    assert last["action"] == "cancel" and last["role"] == "system"
    assert last["reason"] == FULL_REFUND_REASON
    doc = await order_factories.order_doc(mongo_db, order_id)
    assert doc["status"] == "cancelled" and doc["stock_state"] == "returned"
    assert await order_factories.stock(mongo_db, product_id) == {
        "quantity": 10, "reserved": 0, "available": 10}

    # The dealer can no longer pack, ship or deliver it.
    packed = await order_factories.move(pay.api, purchase.shop.account, order_id, "pack")
    assert assert_error(packed, 409)["data"]["status"] == "cancelled"
    assert (await order_factories.order_doc(mongo_db, order_id))["status"] == "cancelled"

    entry = (await pay.api.audited(await pay.api.admin("compliance"), "order.cancel",
                                   order_id))[0]
    assert entry["reason"] == FULL_REFUND_REASON
    assert entry["changes"]["status"] == {"from": "paid", "to": "cancelled"}
    assert entry["changes"]["stockState"] == {"from": "committed", "to": "returned"}
    payment = await eventually(lambda: pay.payment(payment_id),
                               lambda p: p["status"] == "refunded")
    assert payment["amountRefunded"] == purchase.payment["amount"]
    assert await escrow_of(payment_id) == 0
    await pay.ledger_is_valid()


async def test_partial_refunds_leave_the_order_shippable_until_they_add_up_to_everything(
    pay: Payments, mongo_db: AsyncDatabase
):
    purchase = await pay.paid()
    order_id, payment_id = purchase.order["id"], purchase.payment["id"]
    amount = purchase.payment["amount"]
    dealer = purchase.shop.account
    assert (await order_factories.move(pay.api, dealer, order_id, "pack")).status_code == 200

    partial = await pay.refund(payment_id, 10_000)

    assert partial.status_code == 201, partial.text
    doc = await order_factories.order_doc(mongo_db, order_id)
    assert doc["status"] == "packed" and doc["stock_state"] == "committed"

    rest = await pay.refund(payment_id, amount - 10_000)

    assert rest.status_code == 201, rest.text
    doc = await order_factories.order_doc(mongo_db, order_id)
    assert doc["status"] == "cancelled" and doc["stock_state"] == "returned"
    assert doc["status_history"][-1]["from_status"] == "packed"
    shipped = await order_factories.move(pay.api, dealer, order_id, "ship", carrier="BlueDart",
                                         trackingNumber="BD1")
    assert_error(shipped, 409)
    product_id = await _product_id(purchase)
    assert (await order_factories.stock(mongo_db, product_id))["available"] == 10
    await pay.ledger_is_valid()


async def test_a_full_refund_after_shipping_leaves_the_order_to_its_delivery(
    pay: Payments, mongo_db: AsyncDatabase
):
    purchase = await pay.paid()
    order_id, dealer = purchase.order["id"], purchase.shop.account
    assert (await order_factories.move(pay.api, dealer, order_id, "pack")).status_code == 200
    shipped = await order_factories.move(pay.api, dealer, order_id, "ship", carrier="BlueDart",
                                         trackingNumber="BD1")
    assert shipped.status_code == 200

    refunded = await pay.refund(purchase.payment["id"], purchase.payment["amount"])

    assert refunded.status_code == 201, refunded.text
    doc = await order_factories.order_doc(mongo_db, order_id)
    assert doc["status"] == "shipped" and doc["stock_state"] == "committed"
    product_id = await _product_id(purchase)
    assert (await order_factories.stock(mongo_db, product_id))["available"] == 9
