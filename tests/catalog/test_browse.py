"""Public browsing: search, filters, sorting, cursor pagination, and what is never listed."""

from tests.catalog.factories import approved_dealer, listed_product
from tests.helpers import assert_error


async def _ids(client, **params):
    response = await client.get("/api/products", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    return [item["id"] for item in body["data"]["items"]]


async def _catalogue(api):
    """Three dealers' parts; returns (dealer ids, products by nickname)."""
    first, first_id = await approved_dealer(api)
    second, second_id = await approved_dealer(api)
    products = {
        "iphone_display": await listed_product(
            api, first, title="OLED Display Assembly", brand="Apple",
            compatibleModels=["iPhone 13", "iPhone 13 Pro"], b2bPrice=900_000,
            b2cPrice=1_000_000, mrp=1_200_000),
        "iphone_battery": await listed_product(
            api, first, title="Replacement Battery 3240mAh", brand="Apple", category="battery",
            compatibleModels=["iPhone 13"], b2bPrice=150_000, b2cPrice=200_000, mrp=250_000),
        "galaxy_display": await listed_product(
            api, second, title="AMOLED Display Panel", brand="Samsung",
            compatibleModels=["Galaxy S21"], b2bPrice=500_000, b2cPrice=600_000, mrp=700_000),
        "galaxy_port": await listed_product(
            api, second, title="USB-C Charging Port Flex", brand="Samsung",
            category="charging_port", compatibleModels=["Galaxy S21", "Galaxy S22"],
            b2bPrice=30_000, b2cPrice=50_000, mrp=60_000, stock=0),
    }
    ids = {name: product["id"] for name, product in products.items()}
    return (first_id, second_id), ids


async def test_search_matches_every_word_as_a_prefix_of_title_brand_or_model(api, client):
    _, p = await _catalogue(api)
    assert set(await _ids(client, q="display")) == {p["iphone_display"], p["galaxy_display"]}
    assert await _ids(client, q="disp IPHONE") == [p["iphone_display"]]
    assert set(await _ids(client, q="iphone 13")) == {p["iphone_display"], p["iphone_battery"]}
    assert await _ids(client, q="s22") == [p["galaxy_port"]]
    assert await _ids(client, q="samsung usb") == [p["galaxy_port"]]
    assert await _ids(client, q="play") == []  # prefixes, not infixes
    assert await _ids(client, q="display nokia") == []
    assert await _ids(client, q="(.*") == []  # regex characters are matched literally


async def test_filters_combine(api, client):
    (first_id, second_id), p = await _catalogue(api)
    assert set(await _ids(client, category="display")) == {p["iphone_display"],
                                                           p["galaxy_display"]}
    assert set(await _ids(client, brand="samsung")) == {p["galaxy_display"], p["galaxy_port"]}
    assert set(await _ids(client, model="galaxy  S21")) == {p["galaxy_display"],
                                                           p["galaxy_port"]}
    assert set(await _ids(client, dealerId=first_id)) == {p["iphone_display"],
                                                         p["iphone_battery"]}
    assert await _ids(client, dealerId=second_id, category="display") == [p["galaxy_display"]]
    assert set(await _ids(client, minPrice=200_000, maxPrice=600_000)) == {
        p["iphone_battery"], p["galaxy_display"]}
    assert await _ids(client, minPrice=1_000_000) == [p["iphone_display"]]
    assert p["galaxy_port"] not in await _ids(client, inStock="true")
    assert len(await _ids(client, inStock="true")) == 3
    assert p["galaxy_port"] in await _ids(client, inStock="false")


async def test_sorting_by_price_and_newest(api, client):
    _, p = await _catalogue(api)
    by_price = [p["galaxy_port"], p["iphone_battery"], p["galaxy_display"], p["iphone_display"]]
    assert await _ids(client, sort="price") == by_price
    assert await _ids(client, sort="-price") == by_price[::-1]
    newest = list(p.values())[::-1]
    assert await _ids(client, sort="newest") == newest
    assert await _ids(client) == newest


async def test_cursor_pagination_walks_every_listed_product_once(api, client):
    dealer, _ = await approved_dealer(api)
    created = [await listed_product(api, dealer, b2cPrice=100_000 + (i % 3) * 1000,
                                    b2bPrice=90_000, mrp=200_000, stock=i % 2)
               for i in range(7)]
    for params in ({"sort": "newest"}, {"sort": "price"}, {"sort": "-price"},
                   {"sort": "price", "inStock": "true"}):
        seen, cursor, pages = [], None, 0
        while True:
            query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
            response = await client.get("/api/products", params=query)
            assert response.status_code == 200, response.text
            data = response.json()["data"]
            assert len(data["items"]) <= 2
            seen += data["items"]
            pages += 1
            cursor = data["nextCursor"]
            if cursor is None:
                break
        expected = [c for c in created if params.get("inStock") != "true" or c["available"]]
        assert sorted(item["id"] for item in seen) == sorted(c["id"] for c in expected), params
        if params["sort"] != "newest":
            prices = [item["b2cPrice"] for item in seen]
            assert prices == sorted(prices, reverse=params["sort"] == "-price")
        assert pages == (len(expected) + 1) // 2


async def test_bad_browse_parameters_are_client_errors(api, client):
    assert_error(await client.get("/api/products", params={"cursor": "not-a-cursor"}), 400)
    assert_error(await client.get("/api/products", params={"sort": "cheapest"}), 422)
    assert_error(await client.get("/api/products", params={"limit": 101}), 422)
    assert_error(await client.get("/api/products", params={"minPrice": 5, "maxPrice": 1}), 422)
    assert_error(await client.get("/api/products", params={"minPrice": "1.5"}), 422)
    assert_error(await client.get("/api/products", params={"category": "antenna"}), 422)

    dealer, _ = await approved_dealer(api)
    for _ in range(3):
        await listed_product(api, dealer)
    page = await client.get("/api/products", params={"limit": 1, "sort": "price"})
    cursor = page.json()["data"]["nextCursor"]
    assert_error(await client.get("/api/products", params={"cursor": cursor}), 400)


async def test_only_active_products_of_approved_dealers_are_listed(api, client):
    dealer, dealer_id = await approved_dealer(api)
    shown = await listed_product(api, dealer)
    hidden = await listed_product(api, dealer)
    response = await client.patch(f"/api/products/{hidden['id']}", json={"status": "inactive"},
                                  headers=dealer.headers)
    assert response.status_code == 200, response.text
    assert await _ids(client) == [shown["id"]]
    assert_error(await client.get(f"/api/products/{hidden['id']}"), 404)

    ops = await api.admin("ops")
    suspended = await client.patch(f"/api/dealers/{dealer_id}/status",
                                   json={"action": "suspend", "reason": "Compliance review"},
                                   headers=ops.headers)
    assert suspended.status_code == 200, suspended.text
    assert await _ids(client) == []
    assert_error(await client.get(f"/api/products/{shown['id']}"), 404)
    assert_error(await client.get(f"/api/dealers/{dealer_id}/products"), 404)
    assert (await client.get(f"/api/products/{shown['id']}", headers=ops.headers)).status_code == 200

    reinstated = await client.patch(f"/api/dealers/{dealer_id}/status",
                                    json={"action": "reinstate", "reason": "Cleared"},
                                    headers=ops.headers)
    assert reinstated.status_code == 200, reinstated.text
    assert await _ids(client) == [shown["id"]]


async def test_dealer_product_list_shows_the_owner_everything_but_archived(api, client):
    dealer, dealer_id = await approved_dealer(api)
    active = await listed_product(api, dealer)
    inactive = await listed_product(api, dealer)
    archived = await listed_product(api, dealer)
    await client.patch(f"/api/products/{inactive['id']}", json={"status": "inactive"},
                       headers=dealer.headers)
    await client.delete(f"/api/products/{archived['id']}", headers=dealer.headers)
    url = f"/api/dealers/{dealer_id}/products"

    async def ids(headers=None, **params):
        response = await client.get(url, params=params, headers=headers or {})
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["data"]["items"]]

    assert await ids(dealer.headers) == [inactive["id"], active["id"]]
    assert await ids(dealer.headers, status="archived") == [archived["id"]]
    assert await ids() == [active["id"]]
    assert await ids(status="inactive") == []
    other, _ = await approved_dealer(api)
    assert await ids(other.headers) == [active["id"]]
    assert_error(await client.get("/api/dealers/dlr_unknown/products"), 404)
