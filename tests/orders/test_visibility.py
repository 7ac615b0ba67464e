"""Who sees which orders: one order, own lists, a dealer's orders, the admin view."""

from datetime import datetime, timedelta

from tests.catalog import factories as catalog_factories
from tests.helpers import assert_error
from tests.orders.factories import get, part, pay, placed, shop


async def test_buyer_dealer_and_admins_see_an_order_others_get_404(api):
    seller = await shop(api)
    screen = await part(api, seller)
    buyer = await api.customer()
    order_id = (await placed(api, buyer, (screen["id"], 1)))["id"]
    other_buyer = await api.customer()
    other_seller = await shop(api)
    compliance = await api.admin("compliance")

    for viewer in (buyer, seller.account, compliance):
        response = await get(api, viewer, order_id)
        assert response.status_code == 200, response.text
        assert response.json()["data"]["id"] == order_id
    for stranger in (other_buyer, other_seller.account):
        body = assert_error(await get(api, stranger, order_id), 404)
        assert body["data"] is None
    assert_error(await get(api, buyer, "ord_doesnotexist"), 404)
    assert_error(await api.client.get(f"/api/orders/{order_id}"), 401)


async def test_strangers_cannot_move_or_validate_an_order(api, mongo_db):
    seller = await shop(api)
    screen = await part(api, seller)
    buyer = await api.customer()
    order_id = (await placed(api, buyer, (screen["id"], 1)))["id"]
    other_buyer = await api.customer()
    other_seller = await shop(api)

    for stranger in (other_buyer, other_seller.account):
        cancel = await api.client.patch(
            f"/api/orders/{order_id}/status", json={"action": "cancel", "reason": "Not mine"},
            headers=stranger.headers,
        )
        assert_error(cancel, 404)
        validate = await api.client.post(
            f"/api/orders/{order_id}/validate", headers=stranger.headers
        )
        assert_error(validate, 404)
    assert (await mongo_db.orders.find_one({"_id": order_id}))["status"] == "pending_payment"


async def test_my_orders_are_placed_ones_for_buyers_and_received_ones_for_dealers(api):
    seller = await shop(api)
    screen = await part(api, seller, stock=20)
    buyer = await api.customer()
    other_buyer = await api.customer()
    mine = [(await placed(api, buyer, (screen["id"], 1)))["id"] for _ in range(3)]
    theirs = (await placed(api, other_buyer, (screen["id"], 1)))["id"]
    await pay(mine[0])

    own = await api.client.get("/api/orders", headers=buyer.headers)
    assert own.status_code == 200, own.text
    assert [o["id"] for o in own.json()["data"]["items"]] == list(reversed(mine))
    paid_only = await api.client.get(
        "/api/orders", params={"status": "paid"}, headers=buyer.headers
    )
    assert [o["id"] for o in paid_only.json()["data"]["items"]] == [mine[0]]

    received = await api.client.get("/api/orders", headers=seller.account.headers)
    assert {o["id"] for o in received.json()["data"]["items"]} == {*mine, theirs}

    page1 = await api.client.get("/api/orders", params={"limit": 2}, headers=buyer.headers)
    page1_data = page1.json()["data"]
    page2 = await api.client.get(
        "/api/orders", params={"limit": 2, "cursor": page1_data["nextCursor"]},
        headers=buyer.headers,
    )
    ids = [o["id"] for o in page1_data["items"] + page2.json()["data"]["items"]]
    assert ids == list(reversed(mine)) and page2.json()["data"]["nextCursor"] is None


async def test_dealer_orders_route_is_for_that_dealer_and_admins(api):
    seller = await shop(api)
    screen = await part(api, seller, stock=20)
    buyer = await api.customer()
    first = (await placed(api, buyer, (screen["id"], 1)))["id"]
    second = (await placed(api, buyer, (screen["id"], 1)))["id"]
    await pay(second)
    other_seller = await shop(api)
    admin = await api.admin("compliance")
    path = f"/api/dealers/{seller.dealer_id}/orders"

    for viewer in (seller.account, admin):
        response = await api.client.get(path, headers=viewer.headers)
        assert response.status_code == 200, response.text
        assert [o["id"] for o in response.json()["data"]["items"]] == [second, first]
    pending = await api.client.get(
        path, params={"status": "pending_payment"}, headers=seller.account.headers
    )
    assert [o["id"] for o in pending.json()["data"]["items"]] == [first]
    for stranger in (other_seller.account, buyer):
        assert_error(await api.client.get(path, headers=stranger.headers), 404)
    assert_error(await api.client.get(path), 401)


async def test_admin_lists_every_order_with_filters(api):
    seller = await shop(api)
    other_seller = await shop(api)
    screen = await part(api, seller, stock=20)
    bulk = await part(api, other_seller, b2b=1_000_000, b2c=1_100_000, stock=20)
    consumer = await api.customer()
    business = await catalog_factories.b2b_buyer(api)
    b2c_order = (await placed(api, consumer, (screen["id"], 1)))["id"]
    b2b_order = (await placed(api, business, (bulk["id"], 1)))["id"]
    await pay(b2b_order)
    admin = await api.admin("compliance")

    async def ids(**params) -> list[str]:
        response = await api.client.get("/api/admin/orders", params=params, headers=admin.headers)
        assert response.status_code == 200, response.text
        return [o["id"] for o in response.json()["data"]["items"]]

    assert await ids() == [b2b_order, b2c_order]
    assert await ids(status="paid") == [b2b_order]
    assert await ids(channel="b2c") == [b2c_order]
    assert await ids(dealerId=seller.dealer_id) == [b2c_order]
    assert await ids(buyerId=business.id) == [b2b_order]
    now = datetime.now().astimezone()
    assert await ids(**{"from": (now - timedelta(hours=1)).isoformat()}) == [b2b_order, b2c_order]
    assert await ids(to=(now - timedelta(hours=1)).isoformat()) == []
    assert_error(await api.client.get("/api/admin/orders", headers=consumer.headers), 403)
    assert_error(
        await api.client.get("/api/admin/orders", params={"channel": "b2x"}, headers=admin.headers),
        422,
    )
