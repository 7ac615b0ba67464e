"""The catalogue's contract with orders: snapshots, and stock that never oversells."""

import asyncio

import pytest

from app.catalog import service as catalog_service
from app.catalog.exceptions import StockNotReserved
from app.core.database import transaction
from tests.catalog.factories import approved_dealer, listed_product, stock_of


async def _levels(api, dealer, dealer_id, product_id):
    line = await stock_of(api, dealer, dealer_id, product_id)
    return line["quantity"], line["reservedCount"], line["available"]


async def test_100_concurrent_reservations_of_the_last_10_units_never_oversell(api, client):
    dealer, dealer_id = await approved_dealer(api)
    product = await listed_product(api, dealer, stock=10)

    results = await asyncio.gather(
        *(catalog_service.reserve_stock(None, product["id"], 1) for _ in range(100))
    )
    assert results.count(True) == 10 and results.count(False) == 90
    assert await _levels(api, dealer, dealer_id, product["id"]) == (10, 10, 0)
    assert (await client.get(f"/api/products/{product['id']}")).json()["data"]["inStock"] is False


async def test_reserve_release_and_commit_keep_available_consistent(api, client):
    dealer, dealer_id = await approved_dealer(api)
    product = await listed_product(api, dealer, stock=10)
    pid = product["id"]

    assert await catalog_service.reserve_stock(None, pid, 6)
    assert not await catalog_service.reserve_stock(None, pid, 5)
    assert await _levels(api, dealer, dealer_id, pid) == (10, 6, 4)

    await catalog_service.release_stock(None, pid, 2)
    assert await _levels(api, dealer, dealer_id, pid) == (10, 4, 6)
    await catalog_service.release_stock(None, pid, 50)  # more than reserved: refused
    assert await _levels(api, dealer, dealer_id, pid) == (10, 4, 6)

    await catalog_service.commit_stock(None, pid, 3)
    assert await _levels(api, dealer, dealer_id, pid) == (7, 1, 6)
    with pytest.raises(StockNotReserved):
        await catalog_service.commit_stock(None, pid, 2)
    assert await _levels(api, dealer, dealer_id, pid) == (7, 1, 6)

    assert not await catalog_service.reserve_stock(None, "prd_missing", 1)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError):
            await catalog_service.reserve_stock(None, pid, bad)


async def test_reservations_join_the_callers_transaction(api, client):
    dealer, dealer_id = await approved_dealer(api)
    first = await listed_product(api, dealer, stock=5)
    second = await listed_product(api, dealer, stock=1)

    class OutOfStock(Exception):
        pass

    async def checkout(session):
        assert await catalog_service.reserve_stock(session, first["id"], 2)
        if not await catalog_service.reserve_stock(session, second["id"], 2):
            raise OutOfStock

    with pytest.raises(OutOfStock):
        await transaction(checkout)
    assert await _levels(api, dealer, dealer_id, first["id"]) == (5, 0, 5)
    assert await _levels(api, dealer, dealer_id, second["id"]) == (1, 0, 1)


async def test_get_products_snapshots_every_status_and_skips_unknown_ids(api, client):
    dealer, dealer_id = await approved_dealer(api)
    active = await listed_product(api, dealer, stock=4, minB2BQuantity=2)
    archived = await listed_product(api, dealer, stock=1)
    await client.delete(f"/api/products/{archived['id']}", headers=dealer.headers)
    assert await catalog_service.reserve_stock(None, active["id"], 1)

    snapshots = await catalog_service.get_products(
        [active["id"], archived["id"], "prd_missing", active["id"]]
    )
    assert set(snapshots) == {active["id"], archived["id"]}
    snap = snapshots[active["id"]]
    assert snap == catalog_service.ProductSnapshot(
        id=active["id"], dealer_id=dealer_id, sku=active["sku"], title=active["title"],
        brand="Apple", category="display", b2b_price=150_000, b2c_price=199_900, mrp=249_900,
        status="active", min_b2b_quantity=2, dealer_listed=True, available=3,
    )
    assert snapshots[archived["id"]].status == "archived"
    assert await catalog_service.get_products([]) == {}


async def test_dealer_listing_visibility_hides_and_shows_all_products_at_once(api, client):
    dealer, dealer_id = await approved_dealer(api)
    products = [await listed_product(api, dealer) for _ in range(3)]
    other, _ = await approved_dealer(api)
    others = await listed_product(api, other)

    async def listed():
        items = (await client.get("/api/products")).json()["data"]["items"]
        return {item["id"] for item in items}

    assert await catalog_service.set_dealer_listing_visibility(None, dealer_id, False) == 3
    assert await listed() == {others["id"]}
    snapshots = await catalog_service.get_products([p["id"] for p in products])
    assert {s.dealer_listed for s in snapshots.values()} == {False}
    assert await catalog_service.set_dealer_listing_visibility(None, dealer_id, False) == 0
    assert await catalog_service.set_dealer_listing_visibility(None, dealer_id, True) == 3
    assert await listed() == {others["id"], *(p["id"] for p in products)}
