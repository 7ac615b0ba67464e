DEFAULTS = {
    "categoryBounds": {},
    "b2bMinimumOrder": 1_000_000,
    "b2cMinimumOrder": 50_000,
    "b2cDeliveryCharge": 4_900,
    "b2cFreeDeliveryFrom": 99_900,
    "b2bDeliveryCharge": 19_900,
    "b2bFreeDeliveryFrom": 2_500_000,
    "serviceFee": 0,
    "reservationMinutes": 15,
    "maxLineQuantity": 1_000,
}


async def test_defaults_are_the_specified_rules(api, client):
    admin = await api.admin("finance")
    response = await client.get("/api/admin/pricing-rules", headers=admin.headers)
    assert response.status_code == 200
    assert response.json()["data"] == DEFAULTS


async def test_ops_replaces_rules_and_change_is_audited(api, client):
    ops = await api.admin("ops")
    rules = {**DEFAULTS, "serviceFee": 1_500,
             "categoryBounds": {"display": {"minPrice": 50_000, "maxPrice": 5_000_000}}}
    response = await client.put("/api/admin/pricing-rules", json=rules, headers=ops.headers)
    assert response.status_code == 200, response.text
    current = await client.get("/api/admin/pricing-rules", headers=ops.headers)
    assert current.json()["data"]["serviceFee"] == 1_500
    assert current.json()["data"]["categoryBounds"]["display"]["maxPrice"] == 5_000_000

    compliance = await api.admin("compliance")
    entries = await api.wait_for_audit(compliance, action="platform.pricing_rules_changed")
    assert entries[0]["changes"]["service_fee"] == {"from": 0, "to": 1_500}


async def test_invalid_rules_are_422_and_change_nothing(api, client):
    ops = await api.admin("ops")
    bad_bodies = [
        {**DEFAULTS, "categoryBounds": {"antenna": {"minPrice": 1}}},
        {**DEFAULTS, "categoryBounds": {"display": {"minPrice": 10, "maxPrice": 5}}},
        {**DEFAULTS, "serviceFee": 10.5},
        {**DEFAULTS, "b2cMinimumOrder": -1},
        {**DEFAULTS, "reservationMinutes": 0},
        {k: v for k, v in DEFAULTS.items() if k != "serviceFee"},
        {**DEFAULTS, "surprise": True},
    ]
    for body in bad_bodies:
        response = await client.put("/api/admin/pricing-rules", json=body, headers=ops.headers)
        assert response.status_code == 422, body
    current = await client.get("/api/admin/pricing-rules", headers=ops.headers)
    assert current.json()["data"] == DEFAULTS


async def test_pricing_rules_are_admin_only_and_changed_by_ops(api, client):
    customer = await api.customer()
    finance = await api.admin("finance")
    assert (await client.get("/api/admin/pricing-rules", headers=customer.headers)).status_code == 403
    put = await client.put("/api/admin/pricing-rules", json=DEFAULTS, headers=finance.headers)
    assert put.status_code == 403
