"""Blocking or suspending a dealer stops its account and its selling; admins decide its orders;
reinstating it restores both."""

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from tests.catalog.factories import product_body
from tests.helpers import Account, Api, assert_error
from tests.orders.factories import Shop, move, order_doc, part, pay, placed, shop

SHIP = {"carrier": "BlueDart", "trackingNumber": "BD123456"}


async def _dealer_action(api: Api, admin: Account, seller: Shop, action: str,
                         **extra: Any) -> dict[str, Any]:
    response = await api.client.patch(
        f"/api/dealers/{seller.dealer_id}/status",
        json={"action": action, "reason": f"{action} for review", **extra}, headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def _packed_order(api: Api, seller: Shop) -> tuple[dict[str, Any], dict[str, Any]]:
    product = await part(api, seller, b2c=60_000, stock=5)
    buyer = await api.customer()
    order = await placed(api, buyer, (product["id"], 1))
    await pay(order["id"])
    assert (await move(api, seller.account, order["id"], "pack")).status_code == 200
    return product, order


async def _account(db: AsyncDatabase, user_id: str) -> dict[str, Any]:
    doc = await db.users.find_one({"_id": user_id})
    assert doc is not None
    return doc


async def test_blocking_a_dealer_blocks_its_account_and_ends_its_sessions(api: Api, mongo_db):
    seller = await shop(api)
    ops = await api.admin("ops")

    dealer = await _dealer_action(api, ops, seller, "block")

    assert dealer["status"] == "blocked"
    account = await _account(mongo_db, seller.account.id)
    assert account["status"] == "blocked" and account["status_reason"] == "block for review"
    assert_error(await api.client.get("/api/dealers/me", headers=seller.account.headers), 401)
    live_tokens = await mongo_db.refresh_tokens.count_documents(
        {"user_id": seller.account.id, "revoked_at": None})
    assert live_tokens == 0
    refreshed = await api.client.post("/api/auth/refresh",
                                      json={"refreshToken": seller.account.refresh_token})
    assert refreshed.status_code == 401
    login = await api.client.post("/api/auth/login", json={"email": seller.account.email,
                                                           "password": seller.account.password})
    assert login.status_code in (401, 403) and login.json()["success"] is False
    entries = await api.audited(await api.root_admin(), "user.status_changed", seller.account.id,
                                count=2)
    moved = [e for e in entries if e["changes"]["status"]["to"] == "blocked"]
    assert len(moved) == 1 and moved[0]["actorId"] == ops.id


async def test_suspended_dealer_cannot_ship_or_change_its_catalogue_until_reinstated(
    api: Api, mongo_db
):
    seller = await shop(api)
    product, order = await _packed_order(api, seller)
    ops = await api.admin("ops")
    await _dealer_action(api, ops, seller, "suspend")
    assert (await _account(mongo_db, seller.account.id))["status"] == "suspended"
    assert_error(await api.client.get("/api/orders", headers=seller.account.headers), 401)
    # An admin lets the account back in (to read its orders and payouts); the dealer stays
    # suspended, so its selling actions stay stopped.
    assert (await api.set_status(ops, seller.account.id, "active", "may read")).status_code == 200
    await api.login(seller.account)
    before = await order_doc(mongo_db, order["id"])
    stock_before = await mongo_db.inventory.find_one({"_id": product["id"]})

    shipped = await move(api, seller.account, order["id"], "ship", **SHIP)
    cancelled = await move(api, seller.account, order["id"], "cancel", reason="Out of stock")
    edited = await api.client.patch(f"/api/products/{product['id']}", json={"title": "New title"},
                                    headers=seller.account.headers)
    restocked = await api.client.patch(
        f"/api/inventory/{seller.dealer_id}",
        json={"items": [{"productId": product["id"], "quantity": 50}]},
        headers=seller.account.headers)

    for refused in (shipped, cancelled, edited, restocked):
        body = assert_error(refused, 403)
        assert body["data"]["ruleFlags"] == ["DEALER_NOT_ACTIVE"], body
        assert body["data"]["dealerStatus"] == "suspended"
    after = await order_doc(mongo_db, order["id"])
    assert (after["status"], after["version"]) == (before["status"], before["version"]) == (
        "packed", before["version"])
    assert await mongo_db.inventory.find_one({"_id": product["id"]}) == stock_before
    assert (await mongo_db.products.find_one({"_id": product["id"]}))["title"] == product["title"]

    await _dealer_action(api, ops, seller, "reinstate")

    assert (await _account(mongo_db, seller.account.id))["status"] == "active"
    shipped = await move(api, seller.account, order["id"], "ship", **SHIP)
    assert shipped.status_code == 200, shipped.text
    assert (await order_doc(mongo_db, order["id"]))["status"] == "shipped"


async def test_reinstating_a_suspended_dealer_restores_its_account_and_selling(
    api: Api, mongo_db
):
    seller = await shop(api)
    _, order = await _packed_order(api, seller)
    ops = await api.admin("ops")
    await _dealer_action(api, ops, seller, "suspend")
    assert_error(await move(api, seller.account, order["id"], "ship", **SHIP), 401)

    await _dealer_action(api, ops, seller, "reinstate")

    account = await _account(mongo_db, seller.account.id)
    assert account["status"] == "active"
    await api.login(seller.account)
    shipped = await move(api, seller.account, order["id"], "ship", **SHIP)
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["data"]["status"] == "shipped"
    assert (await order_doc(mongo_db, order["id"]))["status"] == "shipped"


async def test_blocked_dealer_product_edit_is_refused_and_changes_nothing(api: Api, mongo_db):
    seller = await shop(api)
    product = await part(api, seller, b2c=60_000, stock=5)
    ops = await api.admin("ops")
    await _dealer_action(api, ops, seller, "block")
    lead = await api.admin("ops_lead")
    lifted = await api.set_status(lead, seller.account.id, "active", "account kept for records",
                                  override=True)
    assert lifted.status_code == 200, lifted.text
    await api.login(seller.account)
    stored = await mongo_db.products.find_one({"_id": product["id"]})

    edited = await api.client.patch(f"/api/products/{product['id']}",
                                    json={"b2cPrice": 55_000}, headers=seller.account.headers)
    created = await api.client.post("/api/products", json=product_body(),
                                    headers=seller.account.headers)

    for refused in (edited, created):
        body = assert_error(refused, 403)
        assert body["data"] == {"ruleFlags": ["DEALER_NOT_ACTIVE"], "dealerStatus": "blocked"}
    assert await mongo_db.products.find_one({"_id": product["id"]}) == stored
    assert await mongo_db.products.count_documents({"dealer_id": seller.dealer_id}) == 1


async def test_admins_see_the_stopped_dealers_orders_awaiting_a_decision(api: Api):
    stopped, running = await shop(api), await shop(api)
    _, waiting = await _packed_order(api, stopped)
    _, elsewhere = await _packed_order(api, running)
    unpaid = await placed(api, await api.customer(),
                          ((await part(api, stopped, stock=3))["id"], 1))
    ops = await api.admin("ops")
    await _dealer_action(api, ops, stopped, "suspend")

    queue = await api.client.get("/api/admin/orders", params={"dealerStatus": "suspended"},
                                 headers=ops.headers)
    blocked_queue = await api.client.get("/api/admin/orders", params={"dealerStatus": "blocked"},
                                         headers=ops.headers)

    assert queue.status_code == 200, queue.text
    ids = [o["id"] for o in queue.json()["data"]["items"]]
    assert ids == [waiting["id"]]  # not the running dealer's, nor the unpaid one
    assert elsewhere["id"] not in ids and unpaid["id"] not in ids
    assert blocked_queue.json()["data"]["items"] == []
    everything = await api.client.get(
        "/api/admin/orders",
        params={"dealerStatus": "suspended", "status": "pending_payment"}, headers=ops.headers)
    assert [o["id"] for o in everything.json()["data"]["items"]] == [unpaid["id"]]
