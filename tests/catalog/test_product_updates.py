"""Editing, moderating and archiving products; who may do what, and what never changes."""

import asyncio

from tests.catalog.factories import approved_dealer, listed_product, product_body
from tests.helpers import assert_error, field_errors


async def _as_owner(client, dealer, product_id):
    response = await client.get(f"/api/products/{product_id}", headers=dealer.headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def _listed_ids(client):
    return [item["id"] for item in (await client.get("/api/products")).json()["data"]["items"]]


async def test_owner_edits_listing_details(api, client):
    dealer, _ = await approved_dealer(api)
    product = await listed_product(api, dealer)
    response = await client.patch(
        f"/api/products/{product['id']}",
        json={"title": "OLED display assembly, black", "description": None,
              "compatibleModels": ["iPhone 13", "iPhone 13 Mini", "iphone 13 "],
              "minB2BQuantity": 3},
        headers=dealer.headers,
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["title"] == "OLED display assembly, black"
    assert data["description"] is None
    assert data["compatibleModels"] == ["iPhone 13", "iPhone 13 Mini"]
    assert data["minB2BQuantity"] == 3
    assert data["version"] == product["version"] + 1
    found = await client.get("/api/products", params={"q": "mini black"})
    assert [item["id"] for item in found.json()["data"]["items"]] == [product["id"]]

    admin = await api.admin("compliance")
    entries = await api.audited(admin, "product.updated", product["id"])
    assert entries[0]["changes"]["title"]["to"] == "OLED display assembly, black"


async def test_mass_assignment_is_422_and_changes_nothing(api, client):
    dealer, _ = await approved_dealer(api)
    other, other_id = await approved_dealer(api)
    product = await listed_product(api, dealer)
    url = f"/api/products/{product['id']}"
    attempts = {
        "body.dealerId": {"dealerId": other_id},
        "body.sku": {"sku": "NEW-SKU"},
        "body.reservedCount": {"reservedCount": 0},
        "body.stock": {"stock": 1000},
        "body.available": {"available": 1000},
        "body.brand": {"brand": "Samsung"},
        "body.category": {"category": "battery"},
        "body.priceHistory": {"priceHistory": []},
        "body.version": {"version": 99},
        "body.dealerListed": {"title": "Looks innocent", "dealerListed": True},
    }
    for field, body in attempts.items():
        response = await client.patch(url, json=body, headers=dealer.headers)
        assert field in field_errors(response), (field, response.text)
    for body in ({"status": "archived"}, {"title": None}, {"b2cPrice": None}, {}):
        assert_error(await client.patch(url, json=body, headers=dealer.headers), 422)
    assert await _as_owner(client, dealer, product["id"]) == product


async def test_another_dealers_product_is_not_found(api, client):
    dealer, _ = await approved_dealer(api)
    other, _ = await approved_dealer(api)
    product = await listed_product(api, dealer)
    url = f"/api/products/{product['id']}"
    assert_error(await client.patch(url, json={"title": "Mine now"}, headers=other.headers), 404)
    assert_error(await client.delete(url, headers=other.headers), 404)
    assert_error(await client.patch("/api/products/prd_missing", json={"title": "Nothing"},
                                    headers=dealer.headers), 404)
    customer = await api.customer()
    assert_error(await client.patch(url, json={"title": "Nope"}, headers=customer.headers), 403)
    assert_error(await client.patch(url, json={"title": "Nope"}), 401)
    assert await _as_owner(client, dealer, product["id"]) == product


async def test_duplicate_listing_by_edit_is_409(api, client):
    dealer, _ = await approved_dealer(api)
    await listed_product(api, dealer, title="Back glass panel", compatibleModels=["Pixel 7"])
    second = await listed_product(api, dealer, title="Back glass panel black",
                                  compatibleModels=["Pixel 7"])
    response = await client.patch(f"/api/products/{second['id']}",
                                  json={"title": "BACK glass  panel"}, headers=dealer.headers)
    assert_error(response, 409)
    assert await _as_owner(client, dealer, second["id"]) == second


async def test_owner_deactivates_and_reactivates(api, client):
    dealer, _ = await approved_dealer(api)
    product = await listed_product(api, dealer)
    url = f"/api/products/{product['id']}"
    inactive = await client.patch(url, json={"status": "inactive"}, headers=dealer.headers)
    assert inactive.json()["data"]["status"] == "inactive"
    assert product["id"] not in await _listed_ids(client)
    active = await client.patch(url, json={"status": "active"}, headers=dealer.headers)
    assert active.json()["data"]["status"] == "active"
    assert product["id"] in await _listed_ids(client)


async def test_admin_pause_hides_product_and_only_admins_lift_it(api, client):
    dealer, _ = await approved_dealer(api)
    product = await listed_product(api, dealer)
    url = f"/api/products/{product['id']}"
    ops = await api.admin("ops")

    assert_error(await client.patch(url, json={"status": "paused"}, headers=ops.headers), 422)
    assert_error(await client.patch(url, json={"status": "paused"}, headers=dealer.headers), 403)
    paused = await client.patch(url, json={"status": "paused", "reason": "Counterfeit report"},
                                headers=ops.headers)
    assert paused.status_code == 200, paused.text
    assert paused.json()["data"]["status"] == "paused"
    assert paused.json()["data"]["pauseReason"] == "Counterfeit report"
    assert product["id"] not in await _listed_ids(client)
    assert_error(await client.get(url), 404)

    for status in ("active", "inactive"):
        assert_error(await client.patch(url, json={"status": status}, headers=dealer.headers), 403)
    assert (await _as_owner(client, dealer, product["id"]))["status"] == "paused"
    assert_error(await client.patch(url, json={"status": "paused", "reason": "Again"},
                                    headers=ops.headers), 409)
    assert_error(await client.patch(url, json={"title": "Edited by admin"},
                                    headers=ops.headers), 403)
    finance = await api.admin("finance")
    assert_error(await client.patch(url, json={"status": "active"}, headers=finance.headers), 403)

    edited = await client.patch(url, json={"description": "Genuine part, invoice attached"},
                                headers=dealer.headers)
    assert edited.status_code == 200, edited.text

    lifted = await client.patch(url, json={"status": "active", "reason": "Invoice verified"},
                                headers=ops.headers)
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["data"]["status"] == "active"
    assert "pauseReason" not in lifted.json()["data"]
    assert product["id"] in await _listed_ids(client)

    compliance = await api.admin("compliance")
    entries = await api.audited(compliance, "product.status_changed", product["id"], count=2)
    assert [e["changes"]["status"] for e in entries] == [
        {"from": "paused", "to": "active"}, {"from": "active", "to": "paused"}]
    assert entries[1]["reason"] == "Counterfeit report" and entries[1]["actorId"] == ops.id


async def test_archive_hides_product_for_good(api, client):
    dealer, dealer_id = await approved_dealer(api)
    product = await listed_product(api, dealer)
    url = f"/api/products/{product['id']}"
    archived = await client.delete(url, headers=dealer.headers)
    assert archived.status_code == 200, archived.text
    assert archived.json()["data"]["status"] == "archived"
    assert product["id"] not in await _listed_ids(client)
    assert_error(await client.get(url), 404)
    assert (await _as_owner(client, dealer, product["id"]))["status"] == "archived"

    assert_error(await client.delete(url, headers=dealer.headers), 409)
    assert_error(await client.patch(url, json={"status": "active"}, headers=dealer.headers), 409)
    assert_error(await client.patch(url, json={"b2cPrice": 180_000}, headers=dealer.headers), 409)
    ops = await api.admin("ops")
    assert_error(await client.patch(url, json={"status": "active"}, headers=ops.headers), 409)

    compliance = await api.admin("compliance")
    entries = await api.audited(compliance, "product.archived", product["id"])
    assert entries[0]["changes"]["status"] == {"from": "active", "to": "archived"}


async def test_admin_archives_with_a_reason(api, client):
    dealer, _ = await approved_dealer(api)
    product = await listed_product(api, dealer)
    ops = await api.admin("ops")
    response = await client.delete(f"/api/products/{product['id']}",
                                   params={"reason": "Banned part"}, headers=ops.headers)
    assert response.status_code == 200, response.text
    compliance = await api.admin("compliance")
    entries = await api.audited(compliance, "product.archived", product["id"])
    assert entries[0]["reason"] == "Banned part" and entries[0]["actorId"] == ops.id


async def test_pending_dealer_cannot_edit(api, client):
    dealer, _ = await approved_dealer(api)
    product = await listed_product(api, dealer)
    pending = await api.dealer()
    assert_error(await client.patch(f"/api/products/{product['id']}", json={"title": "Hijack"},
                                    headers=pending.headers), 403)
    assert_error(await client.post("/api/products", json=product_body(),
                                   headers=pending.headers), 403)


async def test_concurrent_edits_never_lose_a_price_change(api, client):
    dealer, _ = await approved_dealer(api)
    product = await listed_product(api, dealer)
    url = f"/api/products/{product['id']}"
    prices = [190_000 + i for i in range(8)]
    responses = await asyncio.gather(
        *(client.patch(url, json={"b2cPrice": price}, headers=dealer.headers) for price in prices)
    )
    assert {r.status_code for r in responses} <= {200, 409}
    won = [r.json()["data"]["b2cPrice"] for r in responses if r.status_code == 200]
    assert won
    final = await _as_owner(client, dealer, product["id"])
    assert final["version"] == product["version"] + len(won)
    assert len(final["priceHistory"]) == 1 + len(won)
    assert sorted(h["b2cPrice"] for h in final["priceHistory"][1:]) == sorted(won)
    assert final["b2cPrice"] == final["priceHistory"][-1]["b2cPrice"]
