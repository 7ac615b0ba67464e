"""Reservation expiry: unpaid orders expire and give their stock back, once, on their own."""

import asyncio
from datetime import timedelta

import pytest

from app.core import clock
from app.core.database import transaction
from app.core.errors import IllegalTransition
from app.orders import service as orders_service
from app.orders import tasks as order_tasks
from tests.helpers import eventually
from tests.orders.factories import get, move, order_doc, part, pay, placed, shop, stock


async def _overdue(mongo_db, order_id: str) -> None:
    """Move the order's reservation deadline into the past, as if 15 minutes had passed."""
    past = clock.utcnow() - timedelta(seconds=1)
    result = await mongo_db.orders.update_one(
        {"_id": order_id}, {"$set": {"reservation_expires_at": past}}
    )
    assert result.modified_count == 1


async def test_expiry_job_expires_overdue_orders_and_releases_their_stock(api, mongo_db):
    seller = await shop(api)
    screen = await part(api, seller, stock=5)
    buyer = await api.customer()
    overdue = (await placed(api, buyer, (screen["id"], 2)))["id"]
    current = (await placed(api, buyer, (screen["id"], 1)))["id"]
    await _overdue(mongo_db, overdue)

    await order_tasks.expire_reservations()

    expired = (await get(api, buyer, overdue)).json()["data"]
    assert (expired["status"], expired["stockState"], expired["allowedActions"]) == (
        "expired", "released", []
    )
    last = expired["statusHistory"][-1]
    assert (last["from"], last["to"], last["action"], last["by"], last["role"]) == (
        "pending_payment", "expired", "expire", "system", "system"
    )
    assert (await order_doc(mongo_db, current))["status"] == "pending_payment"
    assert await stock(mongo_db, screen["id"]) == {"quantity": 5, "reserved": 1, "available": 4}
    admin = await api.root_admin()
    [entry] = await api.audited(admin, "order.expire", overdue)
    assert (entry["actorId"], entry["actorRole"]) == ("system", "system")
    assert entry["changes"] == {
        "status": {"from": "pending_payment", "to": "expired"},
        "stockState": {"from": "reserved", "to": "released"},
    }


async def test_reservation_lapses_when_the_clock_passes_its_deadline(api, mongo_db, monkeypatch):
    seller = await shop(api)
    screen = await part(api, seller, stock=5)
    buyer = await api.customer()
    order_id = (await placed(api, buyer, (screen["id"], 3)))["id"]
    real_now = clock.utcnow

    monkeypatch.setattr(clock, "utcnow", lambda: real_now() + timedelta(minutes=14))
    await order_tasks.expire_reservations()
    assert (await order_doc(mongo_db, order_id))["status"] == "pending_payment"

    monkeypatch.setattr(clock, "utcnow", lambda: real_now() + timedelta(minutes=16))
    await order_tasks.expire_reservations()
    assert (await order_doc(mongo_db, order_id))["status"] == "expired"
    assert await stock(mongo_db, screen["id"]) == {"quantity": 5, "reserved": 0, "available": 5}


async def test_background_job_expires_overdue_orders_on_its_own(api, mongo_db):
    seller = await shop(api)
    screen = await part(api, seller, stock=5)
    buyer = await api.customer()
    order_id = (await placed(api, buyer, (screen["id"], 2)))["id"]
    await _overdue(mongo_db, order_id)

    async def status() -> str:
        return (await order_doc(mongo_db, order_id))["status"]

    await eventually(status, lambda s: s == "expired",
                     timeout=order_tasks.EXPIRY_INTERVAL_SECONDS * 3)
    assert await stock(mongo_db, screen["id"]) == {"quantity": 5, "reserved": 0, "available": 5}


async def test_concurrent_expiry_runs_expire_each_order_once(api, mongo_db):
    seller = await shop(api)
    screen = await part(api, seller, stock=10)
    buyer = await api.customer()
    order_ids = [(await placed(api, buyer, (screen["id"], 2)))["id"] for _ in range(3)]
    for order_id in order_ids:
        await _overdue(mongo_db, order_id)

    await asyncio.gather(*(order_tasks.expire_reservations() for _ in range(4)))

    assert await stock(mongo_db, screen["id"]) == {"quantity": 10, "reserved": 0, "available": 10}
    for order_id in order_ids:
        doc = await order_doc(mongo_db, order_id)
        assert doc["status"] == "expired"
        assert [h["action"] for h in doc["status_history"]] == ["place", "expire"]
    assert await mongo_db.audit_entries.count_documents({"action": "order.expire"}) == 3


async def test_paid_cancelled_and_extended_orders_do_not_expire(api, mongo_db):
    seller = await shop(api)
    screen = await part(api, seller, stock=10)
    buyer = await api.customer()
    paid, cancelled, extended = [(await placed(api, buyer, (screen["id"], 1)))["id"]
                                 for _ in range(3)]
    await pay(paid)
    assert (await move(api, buyer, cancelled, "cancel")).status_code == 200
    for order_id in (paid, cancelled, extended):
        await _overdue(mongo_db, order_id)
    until = clock.utcnow() + timedelta(minutes=10)
    await transaction(lambda s: orders_service.extend_reservation(s, extended, until))

    await order_tasks.expire_reservations()

    assert [(await order_doc(mongo_db, oid))["status"] for oid in (paid, cancelled, extended)] == [
        "paid", "cancelled", "pending_payment"
    ]
    assert await stock(mongo_db, screen["id"]) == {"quantity": 9, "reserved": 1, "available": 8}
    with pytest.raises(IllegalTransition):
        await transaction(lambda s: orders_service.extend_reservation(s, cancelled, until))
