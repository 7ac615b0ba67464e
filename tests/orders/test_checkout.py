"""Placing orders: server-side pricing, input validation, one dealer, dry runs."""

from datetime import datetime, timedelta

from tests.helpers import assert_error, field_errors
from tests.orders.factories import (
    ADDRESS,
    order_body,
    order_count,
    part,
    place,
    placed,
    shop,
    stock,
)


async def test_customer_places_an_order_priced_by_the_server(api, mongo_db):
    seller = await shop(api)
    screen = await part(api, seller, b2c=60_000, b2b=45_000, stock=5)
    buyer = await api.customer()

    response = await place(api, buyer, (screen["id"], 2))

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["success"] is True and body["traceId"] == response.headers["x-request-id"]
    order = body["data"]
    assert order["id"].startswith("ord_")
    assert (order["status"], order["channel"]) == ("pending_payment", "b2c")
    assert (order["buyerId"], order["dealerId"]) == (buyer.id, seller.dealer_id)
    assert order["items"] == [{
        "productId": screen["id"], "sku": screen["sku"], "title": screen["title"],
        "brand": screen["brand"], "category": "display", "unitPrice": 60_000,
        "mrp": screen["mrp"], "quantity": 2, "lineTotal": 120_000,
    }]
    assert (order["subtotal"], order["deliveryCharge"], order["serviceFee"], order["total"]) == (
        120_000, 0, 0, 120_000
    )
    assert order["ruleFlags"] == []
    assert order["deliveryAddress"] == {**ADDRESS, "line2": None}
    assert order["allowedActions"] == ["cancel"]
    created = datetime.fromisoformat(order["createdAt"])
    expires = datetime.fromisoformat(order["reservationExpiresAt"])
    assert expires - created == timedelta(minutes=15)
    [placed_entry] = order["statusHistory"]
    assert placed_entry | {"at": None} == {
        "from": None, "to": "pending_payment", "action": "place", "by": buyer.id,
        "role": "buyer", "reason": None, "override": False, "at": None,
    }
    assert await stock(mongo_db, screen["id"]) == {"quantity": 5, "reserved": 2, "available": 3}
    doc = await mongo_db.orders.find_one({"_id": order["id"]})
    money = ("subtotal", "delivery_charge", "service_fee", "total")
    assert all(type(doc[name]) is int for name in money)
    assert all(type(item["unit_price"]) is int for item in doc["items"])
    admin = await api.root_admin()
    [entry] = await api.audited(admin, "order.place", order["id"])
    assert entry["actorId"] == buyer.id
    assert entry["changes"] == {"status": {"from": None, "to": "pending_payment"}}


async def test_client_supplied_prices_are_rejected(api, mongo_db):
    seller = await shop(api)
    screen = await part(api, seller, stock=5)
    buyer = await api.customer()
    line_price = order_body((screen["id"], 1))
    line_price["items"][0]["unitPrice"] = 1
    top_total = order_body((screen["id"], 1), total=1)

    for body in (line_price, top_total):
        response = await api.client.post("/api/orders", json=body, headers=buyer.headers)
        assert field_errors(response) & {"body.items.0.unitPrice", "body.total"}

    assert await order_count(mongo_db) == 0
    assert (await stock(mongo_db, screen["id"]))["reserved"] == 0


async def test_quantity_must_be_a_whole_positive_number_within_the_cap(api, mongo_db):
    seller = await shop(api)
    screen = await part(api, seller, stock=2_000)
    buyer = await api.customer()

    for bad in (0, -1, 1.5, "2", True, None, 1_001):
        response = await place(api, buyer, (screen["id"], bad))
        assert field_errors(response) == {"body.items.0.quantity"}, (bad, response.text)
    two_lines = await place(api, buyer, (screen["id"], 600), (screen["id"], 401))
    assert field_errors(two_lines) == {"body.items.0.quantity"}

    assert await order_count(mongo_db) == 0
    assert (await stock(mongo_db, screen["id"]))["reserved"] == 0


async def test_delivery_address_and_items_are_validated(api, mongo_db):
    seller = await shop(api)
    screen = await part(api, seller)
    buyer = await api.customer()
    bad_address = {**order_body((screen["id"], 1)),
                   "deliveryAddress": {**ADDRESS, "pincode": "0123", "phone": "call me"}}
    no_items = {"items": [], "deliveryAddress": ADDRESS}
    no_address = {"items": [{"productId": screen["id"], "quantity": 1}]}

    assert field_errors(
        await api.client.post("/api/orders", json=bad_address, headers=buyer.headers)
    ) == {"body.deliveryAddress.pincode", "body.deliveryAddress.phone"}
    assert field_errors(
        await api.client.post("/api/orders", json=no_items, headers=buyer.headers)
    ) == {"body.items"}
    assert field_errors(
        await api.client.post("/api/orders", json=no_address, headers=buyer.headers)
    ) == {"body.deliveryAddress"}
    assert await order_count(mongo_db) == 0


async def test_only_signed_in_customers_place_orders(api):
    seller = await shop(api)
    screen = await part(api, seller)
    body = order_body((screen["id"], 1))

    assert_error(await api.client.post("/api/orders", json=body), 401)
    assert_error(
        await api.client.post("/api/orders", json=body, headers=seller.account.headers), 403
    )
    admin = await api.root_admin()
    assert_error(await api.client.post("/api/orders", json=body, headers=admin.headers), 403)


async def test_all_items_must_come_from_one_dealer(api, mongo_db):
    first, second = await shop(api), await shop(api)
    screen = await part(api, first, stock=5)
    battery = await part(api, second, stock=5)
    buyer = await api.customer()

    response = await place(api, buyer, (screen["id"], 1), (battery["id"], 1))

    body = assert_error(response, 422)
    assert body["data"]["ruleFlags"] == ["MULTIPLE_DEALERS"]
    assert await order_count(mongo_db) == 0
    for product in (screen, battery):
        assert (await stock(mongo_db, product["id"]))["reserved"] == 0


async def test_same_product_on_two_lines_is_one_demand(api, mongo_db):
    seller = await shop(api)
    screen = await part(api, seller, b2c=60_000, stock=5)
    buyer = await api.customer()

    too_many = await place(api, buyer, (screen["id"], 3), (screen["id"], 3))
    body = assert_error(too_many, 422)
    assert body["data"]["ruleFlags"] == ["INSUFFICIENT_STOCK"]
    assert (await stock(mongo_db, screen["id"]))["reserved"] == 0

    order = await placed(api, buyer, (screen["id"], 2), (screen["id"], 3))
    assert [(item["productId"], item["quantity"]) for item in order["items"]] == [
        (screen["id"], 5)
    ]
    assert order["subtotal"] == 300_000
    assert await stock(mongo_db, screen["id"]) == {"quantity": 5, "reserved": 5, "available": 0}


async def test_dry_run_returns_the_quote_and_saves_nothing(api, mongo_db):
    seller = await shop(api)
    screen = await part(api, seller, b2c=60_000, stock=5)
    buyer = await api.customer()

    response = await place(api, buyer, (screen["id"], 1), dry_run=True)

    assert response.status_code == 200, response.text
    quote = response.json()["data"]
    assert quote["channel"] == "b2c" and quote["dealerId"] == seller.dealer_id
    assert [(i["productId"], i["unitPrice"], i["quantity"]) for i in quote["items"]] == [
        (screen["id"], 60_000, 1)
    ]
    assert (quote["subtotal"], quote["deliveryCharge"], quote["serviceFee"], quote["total"]) == (
        60_000, 4_900, 0, 64_900
    )
    assert quote["ruleFlags"] == [] and quote["violations"] == []
    assert "id" not in quote and quote["orderId"] is None
    assert await order_count(mongo_db) == 0
    assert await stock(mongo_db, screen["id"]) == {"quantity": 5, "reserved": 0, "available": 5}


async def test_blocked_dry_run_is_422_with_flags_and_the_quote(api, mongo_db):
    seller = await shop(api)
    screen = await part(api, seller, b2c=20_000, stock=1)
    buyer = await api.customer()

    response = await place(api, buyer, (screen["id"], 2), dry_run=True)

    body = assert_error(response, 422)
    assert body["data"]["ruleFlags"] == ["INSUFFICIENT_STOCK", "B2C_MINIMUM"]
    assert {v["flag"]: v["productId"] for v in body["data"]["violations"]} == {
        "INSUFFICIENT_STOCK": screen["id"], "B2C_MINIMUM": None,
    }
    assert body["data"]["quote"]["subtotal"] == 40_000
    assert await order_count(mongo_db) == 0
