"""Browse is served from each process's read model, kept at the catalogue version in the
database: every change is visible on the next request, in this process and in another one;
prices follow the caller's channel; paging walks the whole catalogue exactly once."""

import asyncio
from collections.abc import Awaitable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from pymongo import monitoring
from pymongo.asynchronous.database import AsyncDatabase

from tests.catalog.factories import approved_dealer, b2b_buyer, listed_product
from tests.helpers import ADMIN_EMAIL, ADMIN_PASSWORD, Api, assert_error, running_app
from tests.processes import api_processes


async def _page(client: httpx.AsyncClient, headers: dict[str, str] | None = None,
                **params: Any) -> dict[str, Any]:
    response = await client.get("/api/products", params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["traceId"], body
    assert set(body["data"]) == {"items", "nextCursor"}
    return body["data"]


async def _items(client: httpx.AsyncClient, headers: dict[str, str] | None = None,
                 **params: Any) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in (await _page(client, headers, **params))["items"]}


async def _version(db: AsyncDatabase) -> int:
    state = await db.catalog_state.find_one({"_id": "catalog"})
    return state["version"] if state else 0


async def _stamp(db: AsyncDatabase, product_id: str) -> int:
    doc = await db.products.find_one({"_id": product_id})
    assert doc is not None
    return doc["catalog_version"]


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.json()["success"] is True
    return response.json()["data"]


async def test_every_listing_change_is_visible_on_the_next_browse(api: Api, client, mongo_db):
    dealer, dealer_id = await approved_dealer(api)
    admin = await api.root_admin()
    assert await _items(client) == {}

    product = await listed_product(api, dealer, b2cPrice=300_000, b2bPrice=250_000,
                                   mrp=400_000, stock=4)
    url = f"/api/products/{product['id']}"
    seen = (await _items(client))[product["id"]]
    assert (seen["b2cPrice"], seen["available"], seen["inStock"]) == (300_000, 4, True)
    created_at = await _version(mongo_db)
    assert await _stamp(mongo_db, product["id"]) == created_at >= 1

    # A price change: shown, sorted and filtered at the new price on the next request.
    other = await listed_product(api, dealer, b2cPrice=200_000, b2bPrice=150_000, mrp=400_000)
    assert [i["id"] for i in (await _page(client, sort="price"))["items"]] == [
        other["id"], product["id"]]
    await _ok(await client.patch(url, json={"b2cPrice": 100_000, "b2bPrice": 90_000},
                                 headers=dealer.headers))
    assert [i["id"] for i in (await _page(client, sort="price"))["items"]] == [
        product["id"], other["id"]]
    assert (await _items(client))[product["id"]]["b2cPrice"] == 100_000
    assert product["id"] in await _items(client, maxPrice=100_000)
    assert await _stamp(mongo_db, product["id"]) == await _version(mongo_db) > created_at

    # Stock is read fresh by id, not kept in the model (and does not move the version).
    version = await _version(mongo_db)
    await _ok(await client.patch(f"/api/inventory/{dealer_id}", headers=dealer.headers,
                                 json={"items": [{"productId": product["id"], "quantity": 0}]}))
    seen = (await _items(client))[product["id"]]
    assert (seen["available"], seen["inStock"]) == (0, False)
    assert product["id"] not in await _items(client, inStock="true")
    assert await _version(mongo_db) == version

    # A title edit changes what search finds.
    await _ok(await client.patch(url, json={"title": "Flex cable for volume keys"},
                                 headers=dealer.headers))
    assert list(await _items(client, q="volume")) == [product["id"]]

    # Moderation hides it; lifting the pause shows it again.
    await _ok(await client.patch(url, json={"status": "paused", "reason": "Counterfeit report"},
                                 headers=admin.headers))
    assert product["id"] not in await _items(client)
    assert (await mongo_db.products.find_one({"_id": product["id"]}))["status"] == "paused"
    await _ok(await client.patch(url, json={"status": "active"}, headers=admin.headers))
    assert product["id"] in await _items(client)

    # Suspending the dealer hides all its products; reinstating lists them again.
    for action, listed in (("suspend", False), ("reinstate", True)):
        await _ok(await client.patch(f"/api/dealers/{dealer_id}/status", headers=admin.headers,
                                     json={"action": action, "reason": f"{action} for review"}))
        assert (set(await _items(client)) == {product["id"], other["id"]}) is listed
        assert await mongo_db.products.count_documents(
            {"dealer_id": dealer_id, "dealer_listed": listed}) == 2

    # Archiving removes it for good (the admin: suspension ended the dealer's sessions).
    archived = await client.delete(url, headers=admin.headers, params={"reason": "Duplicate"})
    assert archived.status_code == 200, archived.text
    assert set(await _items(client)) == {other["id"]}
    assert (await mongo_db.products.find_one({"_id": product["id"]}))["status"] == "archived"


async def test_a_change_through_one_process_is_visible_through_another(
    config, mongo_db, tmp_path: Path
):
    """This test's app and a separate `app.cli serve` process on one database, neither with
    background refreshes: only the per-request version check can show the other's change."""
    env = {
        "APP_ENV": "test", "LOG_LEVEL": "WARNING", "RATE_LIMITS_ENABLED": "false",
        "MONGODB_URL": config.database.mongodb_url, "MONGODB_DB": config.database.mongodb_db,
        "BOOTSTRAP_ADMIN_EMAIL": ADMIN_EMAIL, "BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "BACKGROUND_TASKS_ENABLED": "false",
    }
    quiet = config.model_copy(update={"background_tasks_enabled": False})
    async with (
        running_app(quiet) as local,
        api_processes(1, env, tmp_path) as [other],
        httpx.AsyncClient(base_url=other.base_url, timeout=30) as remote,
    ):
        dealer, _ = await approved_dealer(Api(local))
        assert await _items(remote) == {}
        product = await listed_product(Api(local), dealer, mrp=400_000, b2cPrice=300_000)  # here
        assert (await _items(remote))[product["id"]]["b2cPrice"] == 300_000  # seen there

        url = f"/api/products/{product['id']}"
        await _ok(await remote.patch(url, json={"b2cPrice": 250_000}, headers=dealer.headers))
        assert (await _items(local))[product["id"]]["b2cPrice"] == 250_000
        await _ok(await remote.patch(url, json={"status": "inactive"}, headers=dealer.headers))
        assert product["id"] not in await _items(local)
        await _ok(await local.patch(url, json={"status": "active"}, headers=dealer.headers))
        assert product["id"] in await _items(remote)
        assert (await mongo_db.products.find_one({"_id": product["id"]}))["b2c_price"] == 250_000


async def test_prices_follow_the_callers_channel_and_b2b_prices_never_reach_b2c(api: Api,
                                                                               client):
    dealer, _ = await approved_dealer(api)
    product = await listed_product(api, dealer, b2bPrice=150_000, b2cPrice=199_900,
                                   mrp=249_900, minB2BQuantity=5)
    cheap = await listed_product(api, dealer, b2bPrice=170_000, b2cPrice=180_000, mrp=249_900)
    b2b = await b2b_buyer(api)
    b2c = await api.customer()
    other_dealer, _ = await approved_dealer(api)
    admin = await api.root_admin()

    for headers in ({}, b2c.headers, other_dealer.headers):
        items = await _items(client, headers)
        assert all("b2bPrice" not in item and "minB2BQuantity" not in item
                   and "version" not in item for item in items.values()), items
        assert list(await _items(client, headers, sort="price")) == [cheap["id"], product["id"]]
        assert list(await _items(client, headers, maxPrice=190_000)) == [cheap["id"]]
        detail = await _ok(await client.get(f"/api/products/{product['id']}", headers=headers))
        assert items[product["id"]] == detail  # the pre-rendered view is the detail view
    trade = await _items(client, b2b.headers)
    assert (trade[product["id"]]["b2bPrice"], trade[product["id"]]["minB2BQuantity"]) == (
        150_000, 5)
    assert "version" not in trade[product["id"]]
    assert list(await _items(client, b2b.headers, sort="price")) == [product["id"], cheap["id"]]
    assert list(await _items(client, b2b.headers, maxPrice=160_000)) == [product["id"]]
    for manager in (dealer, admin):
        item = (await _items(client, manager.headers))[product["id"]]
        detail = await _ok(await client.get(f"/api/products/{product['id']}",
                                            headers=manager.headers))
        assert item["b2bPrice"] == 150_000 and item["version"] == 1
        assert item == {k: v for k, v in detail.items() if k != "priceHistory"}


async def _walk(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        data = await _page(client, headers, limit=7, **params, **({"cursor": cursor} if cursor
                                                                  else {}))
        assert len(data["items"]) <= 7
        ids += [item["id"] for item in data["items"]]
        cursor = data["nextCursor"]
        if cursor is None:
            return ids


async def test_cursor_paging_returns_every_listed_product_once_in_order(api: Api, client):
    dealer, dealer_id = await approved_dealer(api)
    admin = await api.root_admin()
    b2b = await b2b_buyer(api)
    made = []
    for n in range(30):  # prices with ties, some out of stock
        b2c = 100_000 + (n % 6) * 10_000
        made.append(await listed_product(api, dealer, b2cPrice=b2c, b2bPrice=b2c - (n % 4) * 5_000,
                                         mrp=200_000, stock=n % 3))
    hidden = made[4]["id"]
    await _ok(await api.client.patch(f"/api/products/{hidden}", headers=admin.headers,
                                     json={"status": "paused", "reason": "Under review"}))
    listed = [p for p in made if p["id"] != hidden]

    newest = [p["id"] for p in sorted(
        listed, key=lambda p: (datetime.fromisoformat(p["createdAt"]), p["id"]), reverse=True)]
    by_b2c = [p["id"] for p in sorted(listed, key=lambda p: (p["b2cPrice"], p["id"]))]
    by_b2b = [p["id"] for p in sorted(listed, key=lambda p: (p["b2bPrice"], p["id"]))]
    assert await _walk(client, {}) == newest
    assert await _walk(client, {}, sort="price") == by_b2c
    assert await _walk(client, {}, sort="-price") == by_b2c[::-1]
    assert await _walk(client, b2b.headers, sort="price") == by_b2b
    in_stock = {p["id"] for p in listed if p["available"] > 0}
    assert await _walk(client, {}, inStock="true") == [i for i in newest if i in in_stock]
    assert await _walk(client, {}, dealerId=dealer_id, sort="price", minPrice=120_000) == [
        i for i in by_b2c if next(p for p in listed if p["id"] == i)["b2cPrice"] >= 120_000]

    first = await _page(client, {}, limit=7, sort="price")
    assert_error(await client.get("/api/products", params={"cursor": first["nextCursor"]}), 400)
    assert_error(await client.get("/api/products", params={"cursor": "not-a-cursor"}), 400)


class _Commands(monitoring.CommandListener):
    """Counts the commands the process's clients send to one database while armed.

    PyMongo listeners are given to a client when it is created, and the app creates its own:
    this one is registered globally once (it records nothing unless armed)."""

    def __init__(self) -> None:
        self.database, self.seen, self.armed = "", [], False

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.armed and event.database_name == self.database:
            self.seen.append((event.command_name, event.command.get(event.command_name)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    async def during(self, request: Awaitable[httpx.Response]) -> list[tuple[str, Any]]:
        self.seen, self.armed = [], True
        try:
            response = await request
        finally:
            self.armed = False
        assert response.status_code == 200, response.text
        return self.seen


_COMMANDS: _Commands | None = None


def _commands(database: str) -> _Commands:
    global _COMMANDS
    if _COMMANDS is None:
        _COMMANDS = _Commands()
        monitoring.register(_COMMANDS)
    _COMMANDS.database = database
    return _COMMANDS


async def test_browse_costs_one_command_per_page(config, mongo_db):
    """Budget: 1 command (stock of the listed ids + the catalogue version) per page; after a
    catalogue change, 3 (that command, the changed products, the command again)."""
    commands = _commands(config.database.mongodb_db)
    quiet = config.model_copy(update={"background_tasks_enabled": False})
    async with running_app(quiet) as http:
        dealer, _ = await approved_dealer(Api(http))
        product = await listed_product(Api(http), dealer)
        await _page(http)
        for params in ({}, {"q": "oled"}, {"brand": "apple"}, {"sort": "price"},
                       {"inStock": "true", "category": "display"}):
            assert await commands.during(http.get("/api/products", params=params)) == [
                ("aggregate", "inventory")], params
        await _ok(await http.patch(f"/api/products/{product['id']}", json={"b2cPrice": 150_000},
                                   headers=dealer.headers))
        assert await commands.during(http.get("/api/products")) == [
            ("aggregate", "inventory"), ("find", "products"), ("aggregate", "inventory")]
        assert await commands.during(http.get("/api/products")) == [("aggregate", "inventory")]
    assert await _version(mongo_db) >= 2


async def test_concurrent_changes_take_distinct_versions_and_none_is_missed(api: Api, client,
                                                                            mongo_db):
    """Versions are taken in the changes' transactions, which conflict on the version
    document: each change gets its own version, and browsing while they commit never makes
    the model skip one (it would if a later version could commit before an earlier one)."""
    dealer, _ = await approved_dealer(api)
    seen_during: list[int] = []

    async def browse_meanwhile() -> None:
        for _ in range(15):
            seen_during.append(len((await _page(client, limit=100))["items"]))

    made, _ = await asyncio.gather(
        asyncio.gather(*(listed_product(api, dealer) for _ in range(25))), browse_meanwhile()
    )
    stamps = sorted([await _stamp(mongo_db, product["id"]) for product in made])
    assert len(set(stamps)) == 25 and stamps[-1] == await _version(mongo_db)
    assert set(await _items(client, limit=100)) == {product["id"] for product in made}
    assert seen_during == sorted(seen_during)
