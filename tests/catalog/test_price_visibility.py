"""B2B prices reach only verified B2B buyers, the owning dealer and admins."""

from tests.catalog.factories import approved_dealer, b2b_buyer, listed_product


async def _views(api, product_id, headers):
    """The product as seen in browse, in its dealer's list and in its own page."""
    client = api.client
    browse = await client.get("/api/products", headers=headers)
    detail = await client.get(f"/api/products/{product_id}", headers=headers)
    dealer_id = detail.json()["data"]["dealerId"]
    listing = await client.get(f"/api/dealers/{dealer_id}/products", headers=headers)
    for response in (browse, detail, listing):
        assert response.status_code == 200, response.text
    return [
        *[item for item in browse.json()["data"]["items"] if item["id"] == product_id],
        detail.json()["data"],
        *[item for item in listing.json()["data"]["items"] if item["id"] == product_id],
    ]


async def test_b2b_price_is_absent_for_anonymous_and_b2c_callers(api, client):
    dealer, _ = await approved_dealer(api)
    product = await listed_product(api, dealer, minB2BQuantity=10)
    b2c = await api.customer()
    unverified = await api.customer(business={"legalName": "Not Yet LLP",
                                              "gstin": "27AAPFU0939F1ZV"})
    other_dealer, _ = await approved_dealer(api)
    technician = await api.technician()

    for headers in ({}, b2c.headers, unverified.headers, other_dealer.headers,
                    technician.headers):
        views = await _views(api, product["id"], headers)
        assert len(views) == 3
        for view in views:
            assert view["b2cPrice"] == 199_900 and view["mrp"] == 249_900
            assert "b2bPrice" not in view and "minB2BQuantity" not in view, view
            assert "priceHistory" not in view and "version" not in view, view


async def test_verified_b2b_buyer_sees_both_prices(api, client):
    dealer, _ = await approved_dealer(api)
    product = await listed_product(api, dealer, minB2BQuantity=10)
    buyer = await b2b_buyer(api)

    for view in await _views(api, product["id"], buyer.headers):
        assert view["b2bPrice"] == 150_000 and view["b2cPrice"] == 199_900
        assert view["minB2BQuantity"] == 10
        assert "priceHistory" not in view


async def test_owner_and_admins_see_b2b_price(api, client):
    dealer, _ = await approved_dealer(api)
    product = await listed_product(api, dealer)
    finance = await api.admin("finance")
    for account in (dealer, finance):
        detail = await client.get(f"/api/products/{product['id']}", headers=account.headers)
        data = detail.json()["data"]
        assert data["b2bPrice"] == 150_000
        assert len(data["priceHistory"]) == 1


async def test_b2b_buyer_filters_and_sorts_on_b2b_price(api, client):
    dealer, _ = await approved_dealer(api)
    cheap_b2b = await listed_product(api, dealer, b2bPrice=100_000, b2cPrice=300_000,
                                     mrp=300_000)
    cheap_b2c = await listed_product(api, dealer, b2bPrice=200_000, b2cPrice=200_000,
                                     mrp=300_000)
    buyer = await b2b_buyer(api)

    as_b2b = await client.get("/api/products", params={"sort": "price"}, headers=buyer.headers)
    assert [p["id"] for p in as_b2b.json()["data"]["items"]] == [cheap_b2b["id"], cheap_b2c["id"]]
    as_b2c = await client.get("/api/products", params={"sort": "price"})
    assert [p["id"] for p in as_b2c.json()["data"]["items"]] == [cheap_b2c["id"], cheap_b2b["id"]]

    under = await client.get("/api/products", params={"maxPrice": 150_000},
                             headers=buyer.headers)
    assert [p["id"] for p in under.json()["data"]["items"]] == [cheap_b2b["id"]]
    assert (await client.get("/api/products", params={"maxPrice": 150_000})).json()[
        "data"]["items"] == []
