"""The reservation reconciler releases units that no live order holds (a checkout crashed
between reserving and saving), and never a unit of an order being placed."""

import asyncio
from datetime import timedelta

import pytest

from app.catalog import service as catalog_service
from app.core import clock
from app.orders import tasks as order_tasks
from tests.orders.factories import part, pay, place, placed, shop, stock

QUIET_SECONDS = 60
PAST_QUIET = timedelta(seconds=QUIET_SECONDS + 1)
pytestmark = pytest.mark.settings(escrow={"reservation_reconcile_quiet_seconds": QUIET_SECONDS})


async def _crash_leaves_reserved(mongo_db, product_id: str, units: int) -> None:
    """What a checkout that reserved and then died before saving its order leaves behind."""
    result = await mongo_db.inventory.update_one(
        {"_id": product_id}, {"$inc": {"reserved_count": units, "available": -units}}
    )
    assert result.modified_count == 1


async def _held_by_orders(mongo_db, product_id: str) -> int:
    total = 0
    async for order in mongo_db.orders.find({"stock_state": "reserved"}):
        total += sum(i["quantity"] for i in order["items"] if i["product_id"] == product_id)
    return total


async def test_units_a_crashed_checkout_left_reserved_are_released(api, mongo_db):
    seller = await shop(api)
    product = await part(api, seller, stock=10)
    order = await placed(api, await api.customer(), (product["id"], 2))
    await _crash_leaves_reserved(mongo_db, product["id"], 3)

    await order_tasks.reconcile_reservations()  # touched just now: a checkout may be saving
    assert await stock(mongo_db, product["id"]) == {"quantity": 10, "reserved": 5, "available": 5}

    clock.advance(PAST_QUIET)
    await order_tasks.reconcile_reservations()
    await order_tasks.reconcile_reservations()  # a second run releases nothing more

    assert await stock(mongo_db, product["id"]) == {"quantity": 10, "reserved": 2, "available": 8}
    listed = await api.client.get(f"/api/inventory/{seller.dealer_id}",
                                  headers=seller.account.headers)
    assert listed.status_code == 200 and listed.json()["success"] is True
    item = next(i for i in listed.json()["data"]["items"] if i["productId"] == product["id"])
    assert (item["reservedCount"], item["available"]) == (2, 8)
    entries = await mongo_db.audit_entries.find(
        {"action": "inventory.reservations_reconciled", "subject_id": product["id"]}
    ).to_list()
    assert len(entries) == 1
    assert entries[0]["changes"]["reservedCount"] == {"from": 5, "to": 2}
    assert entries[0]["metadata"] == {"released": 3, "heldByOrders": 2}
    await pay(order["id"])  # the live order kept its units: its sale commits them
    assert await stock(mongo_db, product["id"]) == {"quantity": 8, "reserved": 0, "available": 8}


async def test_a_checkout_in_progress_keeps_its_units(api, mongo_db, monkeypatch):
    seller = await shop(api)
    product = await part(api, seller, stock=10)
    buyer = await api.customer()
    await _crash_leaves_reserved(mongo_db, product["id"], 3)
    clock.advance(PAST_QUIET)  # the crash's units are old enough to be reconciled
    real_reserve = catalog_service.reserve_stock
    reserved, resume = asyncio.Event(), asyncio.Event()

    async def reserve_then_stall(session, product_id, quantity):
        done = await real_reserve(session, product_id, quantity)
        reserved.set()
        await resume.wait()  # reserved, order not saved yet
        return done

    monkeypatch.setattr(catalog_service, "reserve_stock", reserve_then_stall)
    checkout = asyncio.create_task(place(api, buyer, (product["id"], 2)))
    await asyncio.wait_for(reserved.wait(), 10)

    await order_tasks.reconcile_reservations()

    assert await stock(mongo_db, product["id"]) == {"quantity": 10, "reserved": 5, "available": 5}
    resume.set()
    response = await checkout
    assert response.status_code == 201, response.text
    order = response.json()["data"]
    await order_tasks.reconcile_reservations()  # the checkout just wrote: still not quiet
    assert await stock(mongo_db, product["id"]) == {"quantity": 10, "reserved": 5, "available": 5}

    clock.advance(PAST_QUIET)
    await order_tasks.reconcile_reservations()

    assert await stock(mongo_db, product["id"]) == {"quantity": 10, "reserved": 2, "available": 8}
    assert await _held_by_orders(mongo_db, product["id"]) == 2
    saved = await mongo_db.orders.find_one({"_id": order["id"]})
    assert saved["stock_state"] == "reserved" and saved["status"] == "pending_payment"


async def test_checkouts_racing_the_reconciler_are_never_over_released(api, mongo_db):
    seller = await shop(api)
    product = await part(api, seller, stock=10)
    buyers = [await api.customer() for _ in range(8)]
    await _crash_leaves_reserved(mongo_db, product["id"], 4)
    clock.advance(PAST_QUIET)

    results = await asyncio.gather(
        *(place(api, buyer, (product["id"], 1)) for buyer in buyers),
        *(order_tasks.reconcile_reservations() for _ in range(3)),
    )

    responses = results[: len(buyers)]
    assert all(r.status_code in (201, 422) for r in responses), [r.text for r in responses]
    placed_count = sum(r.status_code == 201 for r in responses)
    held = await _held_by_orders(mongo_db, product["id"])
    assert held == placed_count and await mongo_db.orders.count_documents({}) == placed_count
    after_race = await stock(mongo_db, product["id"])
    assert after_race["reserved"] - held in (0, 4)  # the leak released, or left for later
    assert after_race["available"] == 10 - after_race["reserved"] >= 0

    clock.advance(PAST_QUIET)
    await order_tasks.reconcile_reservations()

    assert await stock(mongo_db, product["id"]) == {
        "quantity": 10, "reserved": held, "available": 10 - held
    }
