"""Dealers' inventory: who sees it, low-stock flags, and all-or-nothing bulk stock updates."""

from app.catalog import service as catalog_service
from tests.catalog.factories import approved_dealer, listed_product, stock_of
from tests.helpers import assert_error, field_errors


async def _inventory(client, account, dealer_id, **params):
    response = await client.get(f"/api/inventory/{dealer_id}", params=params,
                                headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def test_owner_and_admins_see_inventory_with_low_stock_flags(api, client):
    dealer, dealer_id = await approved_dealer(api)
    plenty = await listed_product(api, dealer, stock=50)
    low = await listed_product(api, dealer, stock=5)
    none = await listed_product(api, dealer, stock=0)

    data = await _inventory(client, dealer, dealer_id)
    assert data["nextCursor"] is None
    lines = {item["productId"]: item for item in data["items"]}
    assert set(lines) == {plenty["id"], low["id"], none["id"]}
    assert lines[plenty["id"]] == {
        "id": plenty["id"], "productId": plenty["id"], "sku": plenty["sku"],
        "title": plenty["title"], "status": "active", "quantity": 50, "reservedCount": 0,
        "available": 50, "lowStock": False, "updatedAt": lines[plenty["id"]]["updatedAt"],
    }
    assert lines[low["id"]]["lowStock"] is True and lines[none["id"]]["lowStock"] is True

    only_low = await _inventory(client, dealer, dealer_id, lowStock="true")
    assert {item["productId"] for item in only_low["items"]} == {low["id"], none["id"]}

    admin = await api.admin("finance")
    assert len((await _inventory(client, admin, dealer_id))["items"]) == 3

    first_page = await _inventory(client, dealer, dealer_id, limit=2)
    second_page = await _inventory(client, dealer, dealer_id, limit=2,
                                   cursor=first_page["nextCursor"])
    paged = [i["productId"] for i in first_page["items"] + second_page["items"]]
    assert sorted(paged) == sorted(lines) and second_page["nextCursor"] is None


async def test_others_cannot_see_a_dealers_inventory(api, client):
    dealer, dealer_id = await approved_dealer(api)
    await listed_product(api, dealer)
    other, _ = await approved_dealer(api)
    customer = await api.customer()
    for account in (other, customer):
        assert_error(await client.get(f"/api/inventory/{dealer_id}", headers=account.headers),
                     404)
    assert_error(await client.get(f"/api/inventory/{dealer_id}"), 401)
    assert_error(await client.patch(f"/api/inventory/{dealer_id}",
                                    json={"items": []}, headers=customer.headers), 403)


async def test_bulk_stock_update_sets_each_product_and_is_audited(api, client):
    dealer, dealer_id = await approved_dealer(api)
    first = await listed_product(api, dealer, stock=10)
    second = await listed_product(api, dealer, stock=3)
    assert await catalog_service.reserve_stock(None, first["id"], 4)

    response = await client.patch(
        f"/api/inventory/{dealer_id}",
        json={"items": [{"productId": first["id"], "quantity": 25},
                        {"productId": second["id"], "quantity": 0}]},
        headers=dealer.headers,
    )
    assert response.status_code == 200, response.text
    lines = {i["productId"]: i for i in response.json()["data"]["items"]}
    assert (lines[first["id"]]["quantity"], lines[first["id"]]["reservedCount"],
            lines[first["id"]]["available"]) == (25, 4, 21)
    assert (lines[second["id"]]["quantity"], lines[second["id"]]["available"]) == (0, 0)
    assert lines[second["id"]]["lowStock"] is True

    product = (await client.get(f"/api/products/{first['id']}")).json()["data"]
    assert product["available"] == 21

    admin = await api.admin("compliance")
    entries = await api.audited(admin, "inventory.stock_set", first["id"])
    assert entries[0]["changes"]["quantity"] == {"from": 10, "to": 25}
    assert entries[0]["changes"]["available"] == {"from": 6, "to": 21}
    assert entries[0]["actorId"] == dealer.id


async def test_stock_below_reserved_is_422_naming_product_and_changes_nothing(api, client):
    dealer, dealer_id = await approved_dealer(api)
    fine = await listed_product(api, dealer, stock=10)
    held = await listed_product(api, dealer, stock=10)
    assert await catalog_service.reserve_stock(None, held["id"], 7)

    response = await client.patch(
        f"/api/inventory/{dealer_id}",
        json={"items": [{"productId": fine["id"], "quantity": 30},
                        {"productId": held["id"], "quantity": 6}]},
        headers=dealer.headers,
    )
    body = assert_error(response, 422)
    [error] = body["data"]["errors"]
    assert error["productId"] == held["id"] and held["id"] in error["message"]
    assert error["field"] == "body.items.1.quantity"

    assert (await stock_of(api, dealer, dealer_id, fine["id"]))["quantity"] == 10
    held_line = await stock_of(api, dealer, dealer_id, held["id"])
    assert (held_line["quantity"], held_line["reservedCount"], held_line["available"]) == (10, 7, 3)

    exactly_reserved = await client.patch(
        f"/api/inventory/{dealer_id}", json={"items": [{"productId": held["id"], "quantity": 7}]},
        headers=dealer.headers,
    )
    assert exactly_reserved.status_code == 200, exactly_reserved.text
    assert exactly_reserved.json()["data"]["items"][0]["available"] == 0


async def test_bad_stock_updates_are_422_and_change_nothing(api, client):
    dealer, dealer_id = await approved_dealer(api)
    mine = await listed_product(api, dealer, stock=10)
    other, other_id = await approved_dealer(api)
    theirs = await listed_product(api, other, stock=10)
    url = f"/api/inventory/{dealer_id}"

    foreign = await client.patch(
        url, json={"items": [{"productId": mine["id"], "quantity": 1},
                             {"productId": theirs["id"], "quantity": 1}]},
        headers=dealer.headers,
    )
    assert field_errors(foreign) == {"body.items.1.productId"}
    for quantity in (-1, 1.5, 2.0, "3", True, None, 10**7):
        response = await client.patch(
            url, json={"items": [{"productId": mine["id"], "quantity": quantity}]},
            headers=dealer.headers,
        )
        assert "body.items.0.quantity" in field_errors(response), (quantity, response.text)
    for body in ({"items": []},
                 {"items": [{"productId": mine["id"], "quantity": 1}] * 2},
                 {"items": [{"productId": mine["id"], "quantity": 1, "reservedCount": 0}]}):
        assert_error(await client.patch(url, json=body, headers=dealer.headers), 422)

    assert_error(await client.patch(f"/api/inventory/{other_id}",
                                    json={"items": [{"productId": theirs["id"], "quantity": 0}]},
                                    headers=dealer.headers), 404)
    assert (await stock_of(api, dealer, dealer_id, mine["id"]))["quantity"] == 10
    assert (await stock_of(api, other, other_id, theirs["id"]))["quantity"] == 10
