"""Query budgets of the hot routes: the database commands one request may send (PyMongo
command monitoring, tests/commands.py). bench/README.md ("Query budgets") gives the reason
for every command; a change that adds one to a hot path fails here."""

from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from app.core.config import Settings
from tests.catalog.factories import b2b_buyer
from tests.commands import CommandCounter
from tests.helpers import Api
from tests.orders import factories as order_factories
from tests.payments.factories import Payments, idem

# The user by _id: it carries the account's status, role, scopes, buyer type, profile ids
# and live sign-in sessions, so the caller is resolved (and refused) with this one read.
AUTH = ["find users"]


@pytest.fixture
def config(config: Settings) -> Settings:
    """Budgets count a request's own commands: no background job runs beside it."""
    return config.model_copy(update={"background_tasks_enabled": False})


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is True
    assert body["traceId"] == response.headers["x-request-id"]
    return body["data"]


async def test_authenticated_user_check_is_one_read(commands: CommandCounter, api: Api) -> None:
    customer = await api.customer()

    response = await api.client.get("/api/users/me", headers=customer.headers)

    data = _ok(response)
    assert data["id"] == customer.id and data["email"] == customer.email
    assert "passwordHash" not in data and "sessionIds" not in data
    # The profile is the account the auth check loaded: not read a second time.
    commands.assert_commands(response, at_most=1, exactly=AUTH)


async def test_ended_session_is_refused_within_the_same_read(
    commands: CommandCounter, api: Api, mongo_db: AsyncDatabase
) -> None:
    customer = await api.customer()
    await mongo_db.users.update_one({"_id": customer.id}, {"$set": {"session_ids": []}})

    response = await api.client.get("/api/users/me", headers=customer.headers)

    assert response.status_code == 401, response.text
    assert response.json()["success"] is False
    commands.assert_commands(response, at_most=1, exactly=AUTH)
    assert (await mongo_db.users.find_one({"_id": customer.id}))["session_ids"] == []


async def test_product_detail_is_one_read(commands: CommandCounter, api: Api) -> None:
    shop = await order_factories.shop(api)
    product = await order_factories.part(api, shop, b2c=60_000, b2b=50_000, stock=7)

    anonymous = await api.client.get(f"/api/products/{product['id']}")
    buyer = await b2b_buyer(api)
    signed_in = await api.client.get(f"/api/products/{product['id']}", headers=buyer.headers)

    for response in (anonymous, signed_in):
        data = _ok(response)
        assert data["id"] == product["id"] and data["available"] == 7
    assert _ok(anonymous).get("b2bPrice") is None and _ok(signed_in)["b2bPrice"] == 50_000
    # The product and its stock in one aggregate ($match _id, $lookup inventory).
    commands.assert_commands(anonymous, at_most=1, exactly=["aggregate products"])
    commands.assert_commands(signed_in, at_most=2, exactly=[*AUTH, "aggregate products"])


async def test_order_detail_is_two_reads(commands: CommandCounter, api: Api) -> None:
    shop = await order_factories.shop(api)
    product = await order_factories.part(api, shop)
    buyer = await api.customer()
    order = await order_factories.placed(api, buyer, (product["id"], 1))

    response = await order_factories.get(api, buyer, order["id"])

    data = _ok(response)
    assert data["id"] == order["id"] and data["status"] == "pending_payment"
    commands.assert_commands(response, at_most=2, exactly=[*AUTH, "find orders"])


async def test_browse_budget(commands: CommandCounter, api: Api) -> None:
    shop = await order_factories.shop(api)
    for _ in range(3):
        await order_factories.part(api, shop)

    # Right after a catalogue change, the page also catches the read model up: the stock and
    # version (1), the products stamped since (1), and the stock of the new page (1).
    first = await api.client.get("/api/products", params={"limit": 20})
    assert len(_ok(first)["items"]) == 3
    commands.assert_commands(
        first, at_most=3, exactly=["aggregate inventory", "find products", "aggregate inventory"]
    )
    # Otherwise one aggregate: the stock of the listed ids with the catalogue version.
    response = await api.client.get("/api/products", params={"limit": 20})
    assert len(_ok(response)["items"]) == 3
    commands.assert_commands(response, at_most=1, exactly=["aggregate inventory"])


async def test_order_placement_budget(
    commands: CommandCounter, api: Api, mongo_db: AsyncDatabase
) -> None:
    shop = await order_factories.shop(api)
    product = await order_factories.part(api, shop, stock=5)
    buyer = await api.customer()

    response = await order_factories.place(api, buyer, (product["id"], 1))

    order = _ok(response, 201)
    assert (await mongo_db.orders.find_one({"_id": order["id"]}))["buyer_id"] == buyer.id
    stock = await order_factories.stock(mongo_db, product["id"])
    assert stock == {"quantity": 5, "reserved": 1, "available": 4}
    # The fraud checks: the sign-in's device, then the orders of the last hour by account,
    # device and address in one aggregation (a first order's lookup only above its limit).
    commands.assert_commands(response, at_most=12, exactly=[
        *AUTH, "find platform_rules", "find orders", "find products", "find inventory",
        "find dealers", "find sign_in_sessions", "aggregate orders",
        "update inventory", "insert orders", "insert audit_entries", "commitTransaction",
    ])


async def test_payment_creation_budget(commands: CommandCounter, pay: Payments) -> None:
    _, buyer, order = await pay.order()

    response = await pay.start(buyer, order["id"], **idem())

    payment = _ok(response, 201)
    assert payment["orderId"] == order["id"] and payment["status"] == "created"
    commands.assert_commands(response, at_most=14, exactly=[
        *AUTH, "insert idempotency_keys", "find orders", "find platform_rules", "find products",
        "find dealers", "find inventory", "find payments", "insert payments",
        "findAndModify orders", "insert audit_entries",
        "insert audit_entries", "commitTransaction", "update idempotency_keys",
    ])


async def test_verify_budget(commands: CommandCounter, pay: Payments) -> None:
    purchase = await pay.started()
    assert (await pay.checkout(purchase, deliver_webhook=False)).status_code == 200

    response = await pay.verify(purchase)

    assert _ok(response)["status"] == "captured"
    assert await pay.order_status(purchase) == "paid"
    # Two small transactions: the capture (payment, ledger, order paid) and then the sale of
    # the reserved units, so buyers of one product no longer conflict inside the capture.
    # The fraud check of a capture: the payer's failed payments of the last hour.
    commands.assert_commands(response, at_most=16, exactly=[
        *AUTH, "find payments", "aggregate payments", "update payments", "insert audit_entries",
        "insert ledger_transactions", "insert ledger_entries", "update ledger_balances",
        "find orders", "findAndModify orders", "insert audit_entries", "commitTransaction",
        "findAndModify orders", "insert audit_entries", "update inventory", "commitTransaction",
    ])
