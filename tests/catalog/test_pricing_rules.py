"""Pricing rules on create and on every update; price history and its audit trail."""

from tests.catalog.factories import approved_dealer, listed_product, product_body
from tests.helpers import field_errors


async def _count_products(api, account, dealer_id):
    response = await api.client.get(
        f"/api/dealers/{dealer_id}/products", params={"limit": 100}, headers=account.headers
    )
    return len(response.json()["data"]["items"])


async def _set_display_bounds(api, min_price, max_price):
    ops = await api.admin("ops")
    current = await api.client.get("/api/admin/pricing-rules", headers=ops.headers)
    rules = {**current.json()["data"],
             "categoryBounds": {"display": {"minPrice": min_price, "maxPrice": max_price}}}
    response = await api.client.put("/api/admin/pricing-rules", json=rules, headers=ops.headers)
    assert response.status_code == 200, response.text


async def test_price_order_violations_are_422_naming_the_price(api, client):
    dealer, dealer_id = await approved_dealer(api)
    cases = {
        "body.b2bPrice": product_body(b2bPrice=200_000, b2cPrice=199_900),
        "body.b2cPrice": product_body(b2cPrice=260_000, mrp=249_900),
    }
    for field, body in cases.items():
        response = await client.post("/api/products", json=body, headers=dealer.headers)
        assert field_errors(response) == {field}, response.text
        assert "exceed" in response.json()["data"]["errors"][0]["message"]
    assert await _count_products(api, dealer, dealer_id) == 0


async def test_prices_must_be_positive_integer_paise(api, client):
    dealer, dealer_id = await approved_dealer(api)
    for bad in (0, -100, 1999.5, 199_900.0, "199900", True, None, 10**11):
        for key in ("b2bPrice", "b2cPrice", "mrp"):
            response = await client.post(
                "/api/products", json=product_body(**{key: bad}), headers=dealer.headers
            )
            assert f"body.{key}" in field_errors(response), (key, bad, response.text)
    assert await _count_products(api, dealer, dealer_id) == 0


async def test_category_bounds_set_by_admin_apply_to_every_price(api, client):
    dealer, dealer_id = await approved_dealer(api)
    await _set_display_bounds(api, 100_000, 300_000)

    too_cheap = product_body(b2bPrice=90_000)
    response = await client.post("/api/products", json=too_cheap, headers=dealer.headers)
    assert field_errors(response) == {"body.b2bPrice"}
    assert "display" in response.json()["data"]["errors"][0]["message"]

    too_dear = product_body(mrp=350_000)
    assert field_errors(
        await client.post("/api/products", json=too_dear, headers=dealer.headers)
    ) == {"body.mrp"}
    assert await _count_products(api, dealer, dealer_id) == 0

    other_category = product_body(category="battery", b2bPrice=90_000)
    assert (await client.post("/api/products", json=other_category,
                              headers=dealer.headers)).status_code == 201
    within = product_body(b2bPrice=100_000, mrp=300_000)
    assert (await client.post("/api/products", json=within,
                              headers=dealer.headers)).status_code == 201


async def test_updates_keep_the_rules_and_change_nothing_when_refused(api, client):
    dealer, _ = await approved_dealer(api)
    product = await listed_product(api, dealer)
    url = f"/api/products/{product['id']}"
    await _set_display_bounds(api, 100_000, 300_000)

    refused = [
        {"b2bPrice": 250_000},            # above b2cPrice 199_900
        {"b2cPrice": 260_000},            # above mrp 249_900
        {"mrp": 150_000},                 # below b2cPrice
        {"b2bPrice": 50_000},             # below the category minimum
        {"mrp": 400_000},                 # above the category maximum
        {"b2cPrice": 0},
        {"b2cPrice": 1999.5},
    ]
    for body in refused:
        response = await client.patch(url, json=body, headers=dealer.headers)
        assert response.status_code == 422, (body, response.text)
    after = (await client.get(url, headers=dealer.headers)).json()["data"]
    assert (after["b2bPrice"], after["b2cPrice"], after["mrp"]) == (150_000, 199_900, 249_900)
    assert after["version"] == product["version"]
    assert len(after["priceHistory"]) == 1


async def test_price_changes_are_kept_in_history_and_audited(api, client):
    dealer, _ = await approved_dealer(api)
    product = await listed_product(api, dealer)
    url = f"/api/products/{product['id']}"

    first = await client.patch(url, json={"b2cPrice": 189_900}, headers=dealer.headers)
    assert first.status_code == 200, first.text
    second = await client.patch(
        url, json={"b2bPrice": 140_000, "mrp": 239_900}, headers=dealer.headers
    )
    assert second.status_code == 200, second.text
    data = second.json()["data"]
    assert (data["b2bPrice"], data["b2cPrice"], data["mrp"]) == (140_000, 189_900, 239_900)
    history = [(h["b2bPrice"], h["b2cPrice"], h["mrp"]) for h in data["priceHistory"]]
    assert history == [(150_000, 199_900, 249_900), (150_000, 189_900, 249_900),
                       (140_000, 189_900, 239_900)]
    assert all(h["actorId"] == dealer.id for h in data["priceHistory"])

    admin = await api.admin("compliance")
    entries = await api.audited(admin, "product.price_changed", product["id"], count=2)
    newest = entries[0]["changes"]
    assert newest == {"b2b_price": {"from": 150_000, "to": 140_000},
                      "mrp": {"from": 249_900, "to": 239_900}}
    assert entries[1]["changes"] == {"b2c_price": {"from": 199_900, "to": 189_900}}


async def test_unchanged_prices_write_no_history(api, client):
    dealer, _ = await approved_dealer(api)
    product = await listed_product(api, dealer)
    response = await client.patch(
        f"/api/products/{product['id']}", json={"b2cPrice": product["b2cPrice"]},
        headers=dealer.headers,
    )
    assert response.status_code == 200
    assert len(response.json()["data"]["priceHistory"]) == 1
    assert response.json()["data"]["version"] == product["version"]
