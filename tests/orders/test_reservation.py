"""Stock reservation at checkout: never oversold, and nothing left reserved by a failure."""

import asyncio
import dataclasses

from app.catalog import service as catalog_service
from app.orders import repository as orders_repository
from tests.helpers import assert_error
from tests.orders.factories import order_count, part, place, placed, shop, stock


async def test_blocked_checkout_reserves_and_saves_nothing(api, mongo_db):
    seller = await shop(api)
    plenty = await part(api, seller, stock=10)
    scarce = await part(api, seller, stock=1)
    buyer = await api.customer()

    response = await place(api, buyer, (plenty["id"], 2), (scarce["id"], 2))

    assert assert_error(response, 422)["data"]["ruleFlags"] == ["INSUFFICIENT_STOCK"]
    assert await order_count(mongo_db) == 0
    assert await mongo_db.audit_entries.count_documents({"action": "order.place"}) == 0
    assert await stock(mongo_db, plenty["id"]) == {"quantity": 10, "reserved": 0, "available": 10}
    assert await stock(mongo_db, scarce["id"]) == {"quantity": 1, "reserved": 0, "available": 1}


async def test_checkout_failing_half_way_releases_what_it_reserved(api, mongo_db, monkeypatch):
    """The second of three lines runs out between the stock check and its reservation."""
    seller = await shop(api)
    first = await part(api, seller, stock=5)
    second = await part(api, seller, stock=1)
    third = await part(api, seller, stock=5)
    buyer = await api.customer()
    real_get_products, real_reserve = catalog_service.get_products, catalog_service.reserve_stock
    reservations: list[tuple[str, bool]] = []

    async def stale_get_products(ids):
        # The check sees stock that another buyer takes before this checkout reserves it.
        found = await real_get_products(ids)
        return {pid: dataclasses.replace(p, available=100) if pid == second["id"] else p
                for pid, p in found.items()}

    async def recording_reserve(session, product_id, quantity):
        reserved = await real_reserve(session, product_id, quantity)
        reservations.append((product_id, reserved))
        return reserved

    monkeypatch.setattr(catalog_service, "get_products", stale_get_products)
    monkeypatch.setattr(catalog_service, "reserve_stock", recording_reserve)

    response = await place(api, buyer, (first["id"], 2), (second["id"], 2), (third["id"], 2))

    body = assert_error(response, 422)
    assert body["data"]["ruleFlags"] == ["INSUFFICIENT_STOCK"]
    assert [v["productId"] for v in body["data"]["violations"]] == [second["id"]]
    assert reservations == [(first["id"], True), (second["id"], False)]
    for product, units in ((first, 5), (second, 1), (third, 5)):
        assert await stock(mongo_db, product["id"]) == {
            "quantity": units, "reserved": 0, "available": units
        }
    assert await order_count(mongo_db) == 0


async def test_failure_after_reserving_every_line_releases_them_all(api, mongo_db, monkeypatch):
    seller = await shop(api)
    first = await part(api, seller, stock=5)
    second = await part(api, seller, stock=5)
    buyer = await api.customer()

    async def failing_insert(session, order):
        raise RuntimeError("database went away")

    monkeypatch.setattr(orders_repository, "insert", failing_insert)
    response = await place(api, buyer, (first["id"], 2), (second["id"], 3))

    assert_error(response, 500)
    assert "database went away" not in response.text
    for product in (first, second):
        assert await stock(mongo_db, product["id"]) == {
            "quantity": 5, "reserved": 0, "available": 5
        }
    assert await order_count(mongo_db) == 0


async def test_hundred_concurrent_orders_for_the_last_ten_units(api, mongo_db):
    seller = await shop(api)
    last_units = await part(api, seller, b2c=60_000, stock=10)
    buyers = await asyncio.gather(*(api.customer() for _ in range(20)))

    responses = await asyncio.gather(*(
        place(api, buyers[n % len(buyers)], (last_units["id"], 1)) for n in range(100)
    ))

    codes = sorted(response.status_code for response in responses)
    assert codes.count(201) == 10 and codes.count(422) == 90, codes
    for response in responses:
        if response.status_code == 422:
            assert response.json()["data"]["ruleFlags"] == ["INSUFFICIENT_STOCK"]
    assert await stock(mongo_db, last_units["id"]) == {
        "quantity": 10, "reserved": 10, "available": 0
    }
    assert await order_count(mongo_db) == 10


async def test_each_order_holds_its_own_reservation(api, mongo_db):
    seller = await shop(api)
    screen = await part(api, seller, stock=6)
    buyer = await api.customer()

    await placed(api, buyer, (screen["id"], 2))
    await placed(api, buyer, (screen["id"], 4))
    last = await place(api, buyer, (screen["id"], 1))

    assert assert_error(last, 422)["data"]["ruleFlags"] == ["INSUFFICIENT_STOCK"]
    assert await stock(mongo_db, screen["id"]) == {"quantity": 6, "reserved": 6, "available": 0}
