"""Orders the fraud checks hold: placed on review (stock reserved, unpaid place taken), not
payable until an ops admin approves; rejected ones are cancelled with their stock released."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from app.core import clock
from tests.admin.factories import pending, queued
from tests.helpers import Account, Api, assert_error
from tests.orders import factories as orders
from tests.payments.factories import idem

DEVICE = "device-risk-test-0001"


async def review(api: Api, who: Account, order_id: str, **body: Any) -> Any:
    return await api.client.patch(f"/api/admin/orders/{order_id}/review", json=body,
                                  headers=who.headers)


async def flagged_entry(db: AsyncDatabase, subject_id: str) -> dict[str, Any]:
    entry = await db.audit_entries.find_one({"action": "risk.flagged", "subject_id": subject_id})
    assert entry is not None
    return entry


async def start_payment(api: Api, buyer: Account, order_id: str) -> Any:
    return await api.client.post("/api/payments", json={"orderId": order_id},
                                 headers={**buyer.headers, **idem()})


@pytest.mark.settings(risk={"order_velocity_per_hour": 2})
async def test_an_order_over_the_velocity_limit_waits_on_review_until_ops_approves_it(
    api: Api, mongo_db: AsyncDatabase
):
    shop = await orders.shop(api)
    product = await orders.part(api, shop, stock=10)
    buyer = await api.customer()
    for _ in range(2):  # at the limit, not over it
        assert (await orders.placed(api, buyer, (product["id"], 1)))["status"] == "pending_payment"

    response = await orders.place(api, buyer, (product["id"], 2))
    assert response.status_code == 201, response.text
    assert response.json()["message"] == "Order placed; on review before it can be paid", response.text
    held = response.json()["data"]
    assert held["status"] == "on_review" and held["allowedActions"] == ["cancel"]
    assert held["riskFlags"] == []  # the rules that fired are for admins only
    doc = await orders.order_doc(mongo_db, held["id"])
    assert doc["risk_flags"] == ["ORDER_VELOCITY"] and doc["stock_state"] == "reserved"
    assert doc["unpaid_slot"] is not None and doc["placed_ip"] == "127.0.0.1"
    assert await orders.stock(mongo_db, product["id"]) == {"quantity": 10, "reserved": 4,
                                                           "available": 6}
    entry = await flagged_entry(mongo_db, held["id"])
    assert entry["metadata"] == {
        "event": "order_placement", "riskFlags": ["ORDER_VELOCITY"], "score": 50,
        "threshold": 50, "outcome": "on_review",
        "rules": {"ORDER_VELOCITY": {"account": {"orders": 2, "limit": 2}}},
    }
    assert entry["reason"] == "ORDER_VELOCITY" and entry["subject_type"] == "order"
    ops = await api.admin("ops")
    [item] = await queued(api, ops, "order_review")
    assert item["subjectId"] == held["id"] and item["decideWith"] == {
        "method": "PATCH", "path": f"/api/admin/orders/{held['id']}/review"}
    assert await pending(api, ops, "order_review") == 1

    refused = assert_error(await start_payment(api, buyer, held["id"]), 409)
    assert refused["data"] == {"code": "ON_REVIEW", "status": "on_review",
                               "riskFlags": ["ORDER_VELOCITY"]}
    assert await mongo_db.payments.count_documents({}) == 0

    decision = {"action": "approve", "reason": "Known workshop restocking"}
    for outsider in (buyer, shop.account):
        assert_error(await review(api, outsider, held["id"], **decision), 403)
    assert_error(await review(api, ops, held["id"], **decision, extra=1), 422)
    assert_error(await review(api, ops, held["id"], action="approve"), 422)
    assert_error(await review(api, ops, held["id"], action="hold", reason="Looks fine"), 422)
    assert_error(await review(api, ops, "ord_missing", **decision), 404)
    shown = await api.client.get(f"/api/orders/{held['id']}", headers=ops.headers)
    assert shown.json()["data"]["riskFlags"] == ["ORDER_VELOCITY"]

    clock.advance(timedelta(hours=1))  # the first reservation has run out meanwhile
    approved = await review(api, ops, held["id"], **decision)
    assert approved.status_code == 200, approved.text
    data = approved.json()["data"]
    assert data["status"] == "pending_payment" and data["riskFlags"] == ["ORDER_VELOCITY"]
    assert datetime.fromisoformat(data["reservationExpiresAt"]) > clock.utcnow()
    after = await orders.order_doc(mongo_db, held["id"])
    assert after["unpaid_slot"] == doc["unpaid_slot"] and after["stock_state"] == "reserved"
    approval = await mongo_db.audit_entries.find_one({"action": "order.approve",
                                                      "subject_id": held["id"]})
    assert approval is not None and approval["actor_id"] == ops.id
    assert approval["reason"] == decision["reason"] and approval["override"] is False
    assert approval["changes"]["status"] == {"from": "on_review", "to": "pending_payment"}
    assert await pending(api, ops, "order_review") == 0

    twice = assert_error(await review(api, ops, held["id"], **decision), 409)
    assert twice["data"] == {"code": "NOT_ON_REVIEW", "status": "pending_payment"}
    payable = await api.client.post(f"/api/orders/{held['id']}/validate", headers=buyer.headers)
    assert payable.status_code == 200, payable.text  # every rule a payment checks passes


async def _login_on(api: Api, account: Account, device: str) -> Account:
    response = await api.client.post(
        "/api/auth/login", json={"email": account.email, "password": account.password},
        headers={"X-Device-Id": device},
    )
    assert response.status_code == 200, response.text
    account.token = response.json()["data"]["accessToken"]
    return account


@pytest.mark.settings(risk={"device_order_velocity_per_hour": 2, "ip_order_velocity_per_hour": 4,
                            "first_order_high_value": 500_000})
async def test_device_address_and_big_first_orders_are_held_and_a_rejection_releases_stock(
    api: Api, mongo_db: AsyncDatabase
):
    shop = await orders.shop(api)
    product = await orders.part(api, shop, b2c=60_000, stock=30)
    first = await _login_on(api, await api.customer(), DEVICE)
    second = await _login_on(api, await api.customer(), DEVICE)
    third = await api.customer()

    assert (await orders.placed(api, first, (product["id"], 1)))["status"] == "pending_payment"
    assert (await orders.placed(api, second, (product["id"], 1)))["status"] == "pending_payment"
    by_device = await orders.placed(api, second, (product["id"], 3))  # the device's third
    assert by_device["status"] == "on_review"
    assert (await orders.order_doc(mongo_db, by_device["id"]))["placed_device_id"] == DEVICE
    assert (await flagged_entry(mongo_db, by_device["id"]))["metadata"]["rules"] == {
        "ORDER_VELOCITY": {"device": {"orders": 2, "limit": 2}}}
    assert (await orders.placed(api, third, (product["id"], 1)))["status"] == "pending_payment"
    by_address = await orders.placed(api, third, (product["id"], 1))  # the address's fifth
    assert by_address["status"] == "on_review"
    assert (await flagged_entry(mongo_db, by_address["id"]))["metadata"]["rules"] == {
        "ORDER_VELOCITY": {"ip": {"orders": 4, "limit": 4}}}
    big = await orders.placed(api, await api.customer(), (product["id"], 10))
    assert big["status"] == "on_review"
    big_entry = await flagged_entry(mongo_db, big["id"])
    assert big_entry["metadata"]["riskFlags"] == ["ORDER_VELOCITY", "FIRST_ORDER_HIGH_VALUE"]
    assert big_entry["metadata"]["score"] == 100
    ops = await api.root_admin()  # the superadmin holds every scope, ops' review too
    queue = await queued(api, ops, "order_review")
    assert [item["subjectId"] for item in queue] == [by_device["id"], by_address["id"], big["id"]]

    before = await orders.stock(mongo_db, product["id"])
    assert before == {"quantity": 30, "reserved": 17, "available": 13}
    rejected = await review(api, ops, by_device["id"], action="reject",
                            reason="Device shared by new accounts")
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["data"]["status"] == "cancelled"
    assert await orders.stock(mongo_db, product["id"]) == {"quantity": 30, "reserved": 14,
                                                           "available": 16}
    doc = await orders.order_doc(mongo_db, by_device["id"])
    assert doc["stock_state"] == "released" and doc["unpaid_slot"] is None
    assert doc["cancel_reason"] == "Device shared by new accounts"
    rejection = await mongo_db.audit_entries.find_one({"action": "order.reject",
                                                       "subject_id": by_device["id"]})
    assert rejection is not None and rejection["override"] is False
    assert rejection["changes"]["stockState"] == {"from": "reserved", "to": "released"}
    again = assert_error(await review(api, ops, by_device["id"], action="approve",
                                      reason="Changed my mind"), 409)
    assert again["data"]["status"] == "cancelled"

    # The buyer may still withdraw an order on review itself.
    withdrawn = await orders.move(api, third, by_address["id"], "cancel")
    assert withdrawn.status_code == 200, withdrawn.text
    assert await pending(api, ops, "order_review") == 1
