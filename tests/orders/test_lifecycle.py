"""The order state machine over HTTP: legal path, illegal moves, who may move, stock effects."""

import asyncio

import pytest

from app.core.database import transaction
from app.core.errors import IllegalTransition
from app.orders import service as orders_service
from app.orders import tasks as order_tasks
from tests.helpers import assert_error, field_errors
from tests.orders.factories import get, move, order_doc, part, pay, placed, shop, stock

SHIPPING = {"carrier": "BlueDart", "trackingNumber": "BD123456789IN"}


async def _story(api, stock_units: int = 10):
    seller = await shop(api)
    screen = await part(api, seller, b2c=60_000, stock=stock_units)
    buyer = await api.customer()
    return seller, screen, buyer


async def test_full_path_pay_pack_ship_deliver_complete(api, mongo_db):
    seller, screen, buyer = await _story(api, stock_units=5)
    order = await placed(api, buyer, (screen["id"], 2))
    admin = await api.root_admin()

    await pay(order["id"], "pay_abc")
    paid = (await get(api, buyer, order["id"])).json()["data"]
    assert (paid["status"], paid["paymentId"], paid["stockState"]) == ("paid", "pay_abc", "committed")
    assert await stock(mongo_db, screen["id"]) == {"quantity": 3, "reserved": 0, "available": 3}
    assert (await get(api, seller.account, order["id"])).json()["data"]["allowedActions"] == [
        "pack", "cancel"
    ]

    packed = await move(api, seller.account, order["id"], "pack")
    assert packed.status_code == 200, packed.text
    assert packed.json()["data"]["status"] == "packed"
    shipped = await move(api, seller.account, order["id"], "ship", **SHIPPING)
    assert shipped.status_code == 200, shipped.text
    assert (shipped.json()["data"]["carrier"], shipped.json()["data"]["trackingNumber"]) == (
        "BlueDart", "BD123456789IN"
    )
    delivered = await move(api, buyer, order["id"], "deliver")
    assert delivered.status_code == 200, delivered.text
    data = delivered.json()["data"]
    assert data["status"] == "delivered" and data["allowedActions"] == []

    history = [(h["from"], h["to"], h["action"], h["by"], h["role"]) for h in data["statusHistory"]]
    assert history == [
        (None, "pending_payment", "place", buyer.id, "buyer"),
        ("pending_payment", "paid", "pay", "system", "system"),
        ("paid", "packed", "pack", seller.account.id, "dealer"),
        ("packed", "shipped", "ship", seller.account.id, "dealer"),
        ("shipped", "delivered", "deliver", buyer.id, "buyer"),
    ]
    assert data["version"] == 5
    for action, actor_id, to in (
        ("pay", "system", "paid"), ("pack", seller.account.id, "packed"),
        ("ship", seller.account.id, "shipped"), ("deliver", buyer.id, "delivered"),
    ):
        [entry] = await api.audited(admin, f"order.{action}", order["id"])
        assert entry["actorId"] == actor_id and entry["changes"]["status"]["to"] == to

    completed = await transaction(
        lambda session: orders_service.mark_completed(session, order["id"])
    )
    assert completed.status == "completed"
    assert await stock(mongo_db, screen["id"]) == {"quantity": 3, "reserved": 0, "available": 3}
    await api.audited(admin, "order.complete", order["id"])


# Every HTTP action that the table refuses from each state (with the party that could
# otherwise take it), so that the refusal is about the state, not about who asks.
ILLEGAL = {
    "pending_payment": ["pack", "ship", "deliver"],
    "paid": ["ship", "deliver"],
    "packed": ["pack", "deliver"],
    "shipped": ["pack", "ship", "cancel"],
    "delivered": ["pack", "ship", "deliver", "cancel"],
    "completed": ["pack", "ship", "deliver", "cancel"],
    "cancelled": ["pack", "ship", "deliver", "cancel"],
    "expired": ["pack", "ship", "deliver", "cancel"],
}


async def _order_in(api, mongo_db, status: str, seller, screen, buyer) -> str:
    """A fresh order of one unit, brought to `status` the way it gets there in real life."""
    order_id = (await placed(api, buyer, (screen["id"], 1)))["id"]
    if status == "cancelled":
        assert (await move(api, buyer, order_id, "cancel")).status_code == 200
    elif status == "expired":
        doc = await order_doc(mongo_db, order_id)
        await mongo_db.orders.update_one(
            {"_id": order_id}, {"$set": {"reservation_expires_at": doc["created_at"]}}
        )
        await order_tasks.expire_reservations()
    elif status != "pending_payment":
        await pay(order_id, f"pay_{order_id}")
        steps = [("packed", seller.account, "pack", {}),
                 ("shipped", seller.account, "ship", SHIPPING),
                 ("delivered", buyer, "deliver", {})]
        for reached, actor, action, extra in steps:
            if status == "paid":
                break
            assert (await move(api, actor, order_id, action, **extra)).status_code == 200
            if status == reached:
                break
        if status == "completed":
            await transaction(lambda session: orders_service.mark_completed(session, order_id))
    return order_id


async def test_every_illegal_move_is_409_and_changes_nothing(api, mongo_db):
    seller, screen, buyer = await _story(api, stock_units=20)
    for status, actions in ILLEGAL.items():
        order_id = await _order_in(api, mongo_db, status, seller, screen, buyer)
        before = await order_doc(mongo_db, order_id)
        assert before["status"] == status
        stock_before = await stock(mongo_db, screen["id"])
        for action in actions:
            actor = buyer if action in ("deliver", "cancel") else seller.account
            extra = SHIPPING if action == "ship" else {"reason": "Changed my mind"}
            response = await move(api, actor, order_id, action, **extra)
            body = assert_error(response, 409)
            expected = (await get(api, actor, order_id)).json()["data"]["allowedActions"]
            assert body["data"]["allowedActions"] == expected, (status, action)
            assert body["data"]["status"] == status
            assert await order_doc(mongo_db, order_id) == before, (status, action)
            assert await stock(mongo_db, screen["id"]) == stock_before


async def test_only_the_right_party_may_take_an_action(api, mongo_db):
    seller, screen, buyer = await _story(api)
    order_id = (await placed(api, buyer, (screen["id"], 1)))["id"]
    await pay(order_id)
    compliance = await api.admin("compliance")

    assert_error(await move(api, buyer, order_id, "pack"), 403)
    assert_error(await move(api, compliance, order_id, "pack"), 403)
    assert (await move(api, seller.account, order_id, "pack")).status_code == 200
    assert (await move(api, seller.account, order_id, "ship", **SHIPPING)).status_code == 200
    body = assert_error(await move(api, seller.account, order_id, "deliver"), 403)
    assert body["data"]["allowedActions"] == []
    assert_error(await move(api, compliance, order_id, "deliver", reason="Courier says so"), 403)
    assert (await order_doc(mongo_db, order_id))["status"] == "shipped"


async def test_shipping_needs_carrier_and_tracking_number(api, mongo_db):
    seller, screen, buyer = await _story(api)
    order_id = (await placed(api, buyer, (screen["id"], 1)))["id"]
    await pay(order_id)
    assert (await move(api, seller.account, order_id, "pack")).status_code == 200

    assert field_errors(await move(api, seller.account, order_id, "ship")) == {"body.carrier"}
    assert field_errors(
        await move(api, seller.account, order_id, "ship", carrier="BlueDart")
    ) == {"body.trackingNumber"}
    assert field_errors(await move(api, buyer, order_id, "cancel", carrier="BlueDart")) == {
        "body.carrier"
    }
    assert (await order_doc(mongo_db, order_id))["status"] == "packed"


async def test_unknown_actions_and_fields_are_422(api, mongo_db):
    seller, screen, buyer = await _story(api)
    order_id = (await placed(api, buyer, (screen["id"], 1)))["id"]

    for body in ({"action": "pay"}, {"action": "expire"}, {"action": "cancel", "status": "paid"}):
        response = await api.client.patch(
            f"/api/orders/{order_id}/status", json=body, headers=buyer.headers
        )
        assert_error(response, 422)
    assert (await order_doc(mongo_db, order_id))["status"] == "pending_payment"


async def test_buyer_cancels_before_payment_and_the_stock_is_released(api, mongo_db):
    seller, screen, buyer = await _story(api, stock_units=5)
    order_id = (await placed(api, buyer, (screen["id"], 3)))["id"]
    assert (await stock(mongo_db, screen["id"]))["reserved"] == 3

    response = await move(api, buyer, order_id, "cancel")

    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["status"], data["stockState"], data["allowedActions"]) == (
        "cancelled", "released", []
    )
    assert await stock(mongo_db, screen["id"]) == {"quantity": 5, "reserved": 0, "available": 5}
    admin = await api.root_admin()
    [entry] = await api.audited(admin, "order.cancel", order_id)
    assert entry["changes"]["stockState"] == {"from": "reserved", "to": "released"}


async def test_dealer_cancels_only_with_a_reason(api, mongo_db):
    seller, screen, buyer = await _story(api, stock_units=5)
    order_id = (await placed(api, buyer, (screen["id"], 2)))["id"]
    await pay(order_id)

    assert field_errors(await move(api, seller.account, order_id, "cancel")) == {"body.reason"}
    assert (await order_doc(mongo_db, order_id))["status"] == "paid"

    response = await move(api, seller.account, order_id, "cancel", reason="Part damaged in store")
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["status"], data["cancelReason"]) == ("cancelled", "Part damaged in store")
    assert data["statusHistory"][-1]["role"] == "dealer"
    # The two sold units go back on the shelf.
    assert data["stockState"] == "returned"
    assert await stock(mongo_db, screen["id"]) == {"quantity": 5, "reserved": 0, "available": 5}


async def test_ops_lead_may_confirm_delivery_as_an_override_with_reason(api, mongo_db):
    seller, screen, buyer = await _story(api)
    order_id = (await placed(api, buyer, (screen["id"], 1)))["id"]
    await pay(order_id)
    await move(api, seller.account, order_id, "pack")
    await move(api, seller.account, order_id, "ship", **SHIPPING)
    ops = await api.admin("ops_lead")

    plain_ops = await move(api, await api.admin("ops"), order_id, "deliver",
                           reason="Courier proof of delivery")
    assert plain_ops.status_code == 403 and plain_ops.json()["success"] is False
    assert field_errors(await move(api, ops, order_id, "deliver")) == {"body.reason"}
    assert (await mongo_db.orders.find_one({"_id": order_id}))["status"] == "shipped"
    response = await move(api, ops, order_id, "deliver", reason="Courier proof of delivery")

    assert response.status_code == 200, response.text
    last = response.json()["data"]["statusHistory"][-1]
    assert (last["role"], last["override"], last["reason"]) == (
        "admin", True, "Courier proof of delivery"
    )
    [entry] = await api.audited(await api.root_admin(), "order.deliver", order_id)
    assert entry["override"] is True and entry["actorId"] == ops.id


async def test_concurrent_cancels_move_the_order_once(api, mongo_db):
    seller, screen, buyer = await _story(api, stock_units=5)
    order_id = (await placed(api, buyer, (screen["id"], 2)))["id"]

    responses = await asyncio.gather(
        move(api, buyer, order_id, "cancel"),
        move(api, seller.account, order_id, "cancel", reason="Out of stock really"),
        move(api, buyer, order_id, "cancel"),
    )

    assert sorted(r.status_code for r in responses) == [200, 409, 409]
    doc = await order_doc(mongo_db, order_id)
    assert doc["status"] == "cancelled" and len(doc["status_history"]) == 2
    assert await stock(mongo_db, screen["id"]) == {"quantity": 5, "reserved": 0, "available": 5}


async def test_mark_paid_twice_with_the_same_payment_commits_stock_once(api, mongo_db):
    seller, screen, buyer = await _story(api, stock_units=5)
    order_id = (await placed(api, buyer, (screen["id"], 2)))["id"]

    await pay(order_id, "pay_once")
    await pay(order_id, "pay_once")

    assert await stock(mongo_db, screen["id"]) == {"quantity": 3, "reserved": 0, "available": 3}
    assert len((await order_doc(mongo_db, order_id))["status_history"]) == 2
    with pytest.raises(IllegalTransition):
        await pay(order_id, "pay_other")
