"""Unpaid orders are bounded: how long their stock stays reserved (ORDER_RESERVATION_MAX_MINUTES
from the order's creation, however often payment is asked again) and how many one customer
holds at once (MAX_UNPAID_ORDERS_PER_CUSTOMER)."""

import asyncio
from datetime import timedelta

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from app.core import clock
from tests.helpers import Api, assert_error
from tests.orders.factories import move, order_count, part, pay, place, placed, shop, stock
from tests.payments.factories import Payments

FLAG = "TOO_MANY_UNPAID_ORDERS"


@pytest.mark.settings(orders={"reservation_max_minutes": 20},
                      auth={"access_token_ttl_seconds": 7200})
async def test_asking_to_pay_again_never_reserves_past_the_maximum(
    pay: Payments, mongo_db: AsyncDatabase
):
    _, buyer, order = await pay.order()
    placed_doc = await mongo_db.orders.find_one({"_id": order["id"]})
    created = placed_doc["created_at"]
    assert placed_doc["reservation_expires_at"] <= created + timedelta(minutes=20)

    first = await pay.start(buyer, order["id"])
    assert first.status_code == 201, first.text
    doc = await mongo_db.orders.find_one({"_id": order["id"]})
    # Starting a payment keeps the stock PAYMENT_RESERVATION_MINUTES (30), capped at 20.
    assert doc["reservation_expires_at"] == created + timedelta(minutes=20)

    clock.advance(timedelta(minutes=15))
    again = await pay.start(buyer, order["id"])

    assert again.status_code == 201, again.text
    assert again.json()["data"]["id"] == first.json()["data"]["id"]
    doc = await mongo_db.orders.find_one({"_id": order["id"]})
    assert doc["reservation_expires_at"] == created + timedelta(minutes=20)

    clock.advance(timedelta(minutes=6))
    late = await pay.start(buyer, order["id"])

    # Refused whether or not the expiry job has expired the order yet.
    body = assert_error(late, 409)
    assert body["data"]["status"] in ("pending_payment", "expired")
    assert await mongo_db.payments.count_documents({"payable_id": order["id"]}) == 1


@pytest.mark.settings(orders={"max_unpaid_per_customer": 2})
async def test_a_customer_holds_at_most_the_configured_unpaid_orders(
    api: Api, mongo_db: AsyncDatabase
):
    seller = await shop(api)
    product = await part(api, seller, stock=10)
    buyer, other = await api.customer(), await api.customer()
    first = await placed(api, buyer, (product["id"], 1))
    await placed(api, buyer, (product["id"], 1))

    third = await place(api, buyer, (product["id"], 1))

    body = assert_error(third, 422)
    assert body["data"]["ruleFlags"] == [FLAG]
    quote = await place(api, buyer, (product["id"], 1), dry_run=True)
    assert assert_error(quote, 422)["data"]["ruleFlags"] == [FLAG]
    assert await order_count(mongo_db) == 2
    assert await stock(mongo_db, product["id"]) == {"quantity": 10, "reserved": 2,
                                                    "available": 8}
    # Another customer is not limited by this one's orders.
    assert (await place(api, other, (product["id"], 1))).status_code == 201

    # Paying one and cancelling the other frees their places.
    await pay(first["id"])
    assert (await place(api, buyer, (product["id"], 1))).status_code == 201
    assert_error(await place(api, buyer, (product["id"], 1)), 422)
    pending = [doc["_id"] async for doc in mongo_db.orders.find(
        {"buyer_id": buyer.id, "status": "pending_payment"})]
    cancelled = await move(api, buyer, pending[0], "cancel", reason="Ordered twice")
    assert cancelled.status_code == 200, cancelled.text
    assert (await place(api, buyer, (product["id"], 1))).status_code == 201
    assert await mongo_db.orders.count_documents(
        {"buyer_id": buyer.id, "status": "pending_payment"}) == 2
    paid = await mongo_db.orders.find_one({"_id": first["id"]})
    assert paid["status"] == "paid" and paid.get("unpaid_slot") is None


@pytest.mark.settings(orders={"max_unpaid_per_customer": 2})
async def test_concurrent_checkouts_never_exceed_the_unpaid_limit(
    api: Api, mongo_db: AsyncDatabase
):
    seller = await shop(api)
    product = await part(api, seller, stock=20)
    buyer = await api.customer()

    responses = await asyncio.gather(*(place(api, buyer, (product["id"], 1)) for _ in range(6)))

    codes = sorted(response.status_code for response in responses)
    assert codes == [201, 201, 422, 422, 422, 422]
    for response in responses:
        if response.status_code == 422:
            assert assert_error(response, 422)["data"]["ruleFlags"] == [FLAG]
    assert await order_count(mongo_db) == 2
    assert await stock(mongo_db, product["id"]) == {"quantity": 20, "reserved": 2,
                                                    "available": 18}
