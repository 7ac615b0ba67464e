"""Flags on what cannot wait for a review: a listing priced far under its category goes to
moderation; a capture after failed payments and a refund of a serial refunder are recorded
on the payment and raise an alert."""

from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from tests.catalog.factories import listed_product
from tests.helpers import eventually
from tests.orders import factories as orders
from tests.payments.factories import Payments, Purchase


async def flagged(db: AsyncDatabase, subject_id: str) -> list[dict[str, Any]]:
    cursor = db.audit_entries.find({"action": "risk.flagged", "subject_id": subject_id})
    return [entry["metadata"] async for entry in cursor.sort("at", 1)]


@pytest.mark.settings(risk={"price_median_min_listings": 3, "payment_failures_per_hour": 1,
                            "refund_ratio_min_payments": 1})
async def test_a_cheap_listing_is_moderated_and_flagged_captures_and_refunds_are_alerted(
    pay: Payments, mongo_db: AsyncDatabase
):
    api = pay.api
    shop = await orders.shop(api)
    product = await orders.part(api, shop, b2c=200_000)
    for _ in range(2):
        await orders.part(api, shop, b2c=200_000)
    fair = await orders.part(api, shop, b2c=40_000)  # 20 % of the median: not far below
    assert fair["status"] == "active"
    assert await flagged(mongo_db, fair["id"]) == []
    cheap = await listed_product(api, shop.account, b2cPrice=39_999, b2bPrice=30_000,
                                 mrp=250_000)
    assert cheap["status"] == "paused"
    assert cheap["pauseReason"] == "Held for moderation by the fraud checks: PRICE_FAR_BELOW_MEDIAN"
    [listing_flag] = await flagged(mongo_db, cheap["id"])
    assert listing_flag["outcome"] == "paused"
    assert listing_flag["rules"]["PRICE_FAR_BELOW_MEDIAN"] == {
        "price": 39_999, "median": 200_000, "listings": 4, "limitPercent": 20}

    repriced = await api.client.patch(f"/api/products/{fair['id']}",
                                      json={"b2cPrice": 30_000, "b2bPrice": 25_000},
                                      headers=shop.account.headers)
    assert repriced.status_code == 200, repriced.text
    assert repriced.json()["data"]["status"] == "paused"
    assert [f["event"] for f in await flagged(mongo_db, fair["id"])] == ["listing"]
    ops = await api.admin("ops")
    lifted = await api.client.patch(f"/api/products/{fair['id']}", json={"status": "active"},
                                    headers=ops.headers)
    assert lifted.status_code == 200 and lifted.json()["data"]["status"] == "active"

    buyer = await api.customer()
    order = await orders.placed(api, buyer, (product["id"], 1))
    started = await pay.start(buyer, order["id"])
    failed = Purchase(shop, buyer, order, started.json()["data"])
    assert (await pay.checkout(failed, outcome="failure", deliver_webhook=True)).status_code == 400

    async def failed_status() -> str:
        return (await pay.payment(failed.payment["id"]))["status"]

    await eventually(failed_status, lambda status: status == "failed")
    retry = await pay.start(buyer, order["id"])
    purchase = Purchase(shop, buyer, order, retry.json()["data"])
    assert (await pay.checkout(purchase, deliver_webhook=False)).status_code == 200
    verified = await pay.verify(purchase)
    assert verified.status_code == 200, verified.text
    payment_id = purchase.payment["id"]
    assert verified.json()["data"]["status"] == "captured"
    assert verified.json()["data"]["riskFlags"] == []  # the buyer does not see them
    assert (await pay.payment(payment_id))["riskFlags"] == ["PAYMENT_FAILURES"]
    [capture_flag] = await flagged(mongo_db, payment_id)
    assert (capture_flag["event"], capture_flag["outcome"]) == ("payment_capture", "alert")
    finance = await pay.finance()
    alerts = await api.client.get("/api/admin/alerts", params={"kind": "risk_flagged"},
                                  headers=finance.headers)
    [alert] = alerts.json()["data"]["items"]
    assert alert["subjectId"] == payment_id
    assert alert["message"] == "Fraud checks flagged a payment capture: PAYMENT_FAILURES"

    refunded = await pay.refund(payment_id, 10_000)
    assert refunded.status_code == 201, refunded.text
    assert (await pay.payment(payment_id))["riskFlags"] == ["PAYMENT_FAILURES", "REFUND_RATIO"]
    refund_flag = (await flagged(mongo_db, payment_id))[-1]
    assert refund_flag["event"] == "refund"
    assert refund_flag["rules"]["REFUND_RATIO"] == {"paid": 1, "refunded": 1, "limitPercent": 50}
    await pay.ledger_is_valid()
