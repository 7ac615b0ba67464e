"""Listing a product: who may, what is stored, and the uniqueness rules."""

from tests.catalog.factories import approved_dealer, listed_product, product_body, stock_of
from tests.dealers.factories import submitted_dealer
from tests.helpers import assert_error, field_errors


async def _dealer_products(api, account, dealer_id):
    response = await api.client.get(
        f"/api/dealers/{dealer_id}/products", params={"limit": 100}, headers=account.headers
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]["items"]


async def test_approved_dealer_lists_product_with_its_inventory(api, client):
    dealer, dealer_id = await approved_dealer(api)
    body = product_body(minB2BQuantity=5)
    response = await client.post("/api/products", json=body, headers=dealer.headers)

    assert response.status_code == 201, response.text
    envelope = response.json()
    assert envelope["success"] is True
    assert envelope["traceId"] == response.headers["x-request-id"]
    product = envelope["data"]
    assert product["id"].startswith("prd_")
    assert product["dealerId"] == dealer_id
    assert {k: product[k] for k in ("sku", "title", "brand", "category", "compatibleModels",
                                    "b2bPrice", "b2cPrice", "mrp", "minB2BQuantity")} == {
        k: body[k] for k in ("sku", "title", "brand", "category", "compatibleModels",
                             "b2bPrice", "b2cPrice", "mrp", "minB2BQuantity")}
    assert product["status"] == "active"
    assert product["available"] == 10 and product["inStock"] is True
    assert product["priceHistory"][0]["b2cPrice"] == 199_900

    line = await stock_of(api, dealer, dealer_id, product["id"])
    assert line == {**line, "sku": body["sku"], "title": body["title"], "quantity": 10,
                    "reservedCount": 0, "available": 10, "lowStock": False}

    admin = await api.admin("compliance")
    entries = await api.audited(admin, "product.created", product["id"])
    assert entries[0]["actorId"] == dealer.id
    assert entries[0]["changes"]["b2c_price"] == {"from": None, "to": 199_900}


async def test_pending_dealer_cannot_list(api, client):
    account, dealer = await submitted_dealer(api)
    response = await client.post("/api/products", json=product_body(), headers=account.headers)
    assert_error(response, 403)

    admin = await api.root_admin()
    assert await _dealer_products(api, admin, dealer["id"]) == []


async def test_customers_and_anonymous_callers_cannot_list(api, client):
    customer = await api.customer()
    assert_error(await client.post("/api/products", json=product_body(),
                                   headers=customer.headers), 403)
    assert_error(await client.post("/api/products", json=product_body()), 401)


async def test_sku_is_unique_per_dealer(api, client):
    dealer, dealer_id = await approved_dealer(api)
    first = await listed_product(api, dealer, sku="BAT-13")

    duplicate = await client.post(
        "/api/products", json=product_body(sku="bat-13"), headers=dealer.headers
    )
    body = assert_error(duplicate, 409)
    assert "SKU" in body["message"]
    assert [p["id"] for p in await _dealer_products(api, dealer, dealer_id)] == [first["id"]]

    other_dealer, _ = await approved_dealer(api)
    await listed_product(api, other_dealer, sku="BAT-13")


async def test_same_part_listed_twice_by_a_dealer_is_refused(api, client):
    dealer, dealer_id = await approved_dealer(api)
    await listed_product(api, dealer, brand="Samsung", title="Battery EB-BG991",
                         compatibleModels=["Galaxy S21", "Galaxy S21 5G"])

    same_part = product_body(brand=" samsung ", title="battery  eb-bg991",
                             compatibleModels=["galaxy s21 5g", "GALAXY S21"])
    response = await client.post("/api/products", json=same_part, headers=dealer.headers)
    assert_error(response, 409)
    assert len(await _dealer_products(api, dealer, dealer_id)) == 1

    other_models = product_body(brand="Samsung", title="Battery EB-BG991",
                                compatibleModels=["Galaxy S21"])
    response = await client.post("/api/products", json=other_models, headers=dealer.headers)
    assert response.status_code == 201, response.text


async def test_archiving_frees_the_sku_and_listing(api, client):
    dealer, _ = await approved_dealer(api)
    product = await listed_product(api, dealer, sku="CAM-1", title="Rear camera module")
    deleted = await client.delete(f"/api/products/{product['id']}", headers=dealer.headers)
    assert deleted.status_code == 200, deleted.text

    again = await client.post(
        "/api/products", json=product_body(sku="CAM-1", title="Rear camera module"),
        headers=dealer.headers,
    )
    assert again.status_code == 201, again.text


async def test_bad_create_bodies_are_422_and_create_nothing(api, client):
    dealer, dealer_id = await approved_dealer(api)
    bad = {
        "body.category": product_body(category="antenna"),
        "body.stock": product_body(stock=-1),
        "body.dealerId": product_body(dealerId="dlr_someone_else"),
        "body.status": product_body(status="paused"),
        "body.reservedCount": product_body(reservedCount=3),
        "body.sku": product_body(sku=""),
        "body.title": {k: v for k, v in product_body().items() if k != "title"},
        "body.minB2BQuantity": product_body(minB2BQuantity=0),
    }
    for field, body in bad.items():
        response = await client.post("/api/products", json=body, headers=dealer.headers)
        assert field in field_errors(response), (field, response.text)
    for stock in (1.5, 2.0, True, "10", 10**7):
        response = await client.post(
            "/api/products", json=product_body(stock=stock), headers=dealer.headers
        )
        assert "body.stock" in field_errors(response), (stock, response.text)
    assert await _dealer_products(api, dealer, dealer_id) == []
