"""The money path notifies once each: the buyer when the order ships (pushed live to its
Socket.IO connection), the dealer when escrow is released and when its payout is paid."""

from tests.notifications.helpers import kinds_of, the_one
from tests.notifications.sockets import listening
from tests.orders import factories as order_factories
from tests.payouts.factories import account_number, register_account, settled, verify_account


async def test_shipping_release_and_payout_notify_buyer_and_dealer_once(pay, mongo_db):
    api = pay.api
    purchase = await pay.paid()
    order_id, dealer, buyer = purchase.order["id"], purchase.shop.account, purchase.buyer

    async with listening(pay.live, buyer) as buyer_socket:
        for action, extra in (("pack", {}),
                              ("ship", {"carrier": "BlueDart", "trackingNumber": "BD123456"})):
            response = await order_factories.move(api, dealer, order_id, action, **extra)
            assert response.status_code == 200, response.text
        pushed = await buyer_socket.next()

    assert (pushed["kind"], pushed["subjectType"], pushed["subjectId"]) == (
        "order_shipped", "order", order_id)
    assert "BD123456" in pushed["message"]
    assert (await the_one(api, mongo_db, buyer, "order_shipped", order_id))["id"] == pushed["id"]

    assert (await order_factories.move(api, buyer, order_id, "deliver")).status_code == 200
    payment_id = purchase.payment["id"]
    assert (await pay.release(payment_id)).status_code == 200
    assert (await pay.release(payment_id)).status_code in (200, 409)  # a replay: no second
    released = await the_one(api, mongo_db, dealer, "payment_released", payment_id)
    payment = await pay.payment(payment_id)
    share = payment["commissionBreakdown"]["dealerShare"]
    assert f"₹{share // 100:,}.{share % 100:02d}" in released["message"]

    finance = await pay.finance()
    account = (await register_account(api, dealer, account_number())).json()["data"]
    await verify_account(api, finance, account["id"])
    response = await api.client.post(
        "/api/payouts", json={"recipientId": purchase.shop.dealer_id},
        headers={**finance.headers, "Idempotency-Key": f"payout-{order_id}"})
    assert response.status_code == 201, response.text
    payout = await settled(api, finance, response.json()["data"]["id"])
    assert payout["status"] == "paid"
    paid = await the_one(api, mongo_db, dealer, "payout_paid", payout["id"])
    assert account["accountNumberMasked"] in paid["message"]

    assert await kinds_of(mongo_db, buyer.id) == ["order_shipped"]
    assert await kinds_of(mongo_db, dealer.id) == [
        "dealer_approved", "payment_released", "payout_paid"]
