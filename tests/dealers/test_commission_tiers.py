from tests.dealers.factories import approved_dealer


async def test_finance_sets_tiers_and_moves_a_dealer(api, client):
    _, dealer = await approved_dealer(api)
    finance = await api.admin("finance")
    defaults = await client.get("/api/admin/commission-tiers", headers=finance.headers)
    assert defaults.json()["data"] == {"tiers": {"standard": 1000}}
    assert dealer["commissionTier"] == "standard"

    tiers = {"tiers": {"standard": 1000, "gold": 500}}
    put = await client.put("/api/admin/commission-tiers", json=tiers, headers=finance.headers)
    assert put.status_code == 200, put.text
    moved = await client.patch(
        f"/api/dealers/{dealer['id']}/commission-tier", json={"tier": "gold"},
        headers=finance.headers,
    )
    assert moved.status_code == 200
    assert moved.json()["data"]["commissionTier"] == "gold"

    compliance = await api.admin("compliance")
    entries = await api.wait_for_audit(compliance, action="dealer.commission_tier_changed")
    assert entries[0]["changes"]["commissionTier"] == {"from": "standard", "to": "gold"}


async def test_unknown_tier_is_422_and_tier_in_use_cannot_be_removed(api, client):
    _, dealer = await approved_dealer(api)
    finance = await api.admin("finance")
    unknown = await client.patch(
        f"/api/dealers/{dealer['id']}/commission-tier", json={"tier": "platinum"},
        headers=finance.headers,
    )
    assert unknown.status_code == 422
    await client.put("/api/admin/commission-tiers",
                     json={"tiers": {"standard": 1000, "gold": 500}}, headers=finance.headers)
    await client.patch(f"/api/dealers/{dealer['id']}/commission-tier", json={"tier": "gold"},
                       headers=finance.headers)
    removal = await client.put("/api/admin/commission-tiers",
                               json={"tiers": {"standard": 900}}, headers=finance.headers)
    assert removal.status_code == 409
    assert removal.json()["data"]["tiersInUse"] == ["gold"]
    current = await client.get("/api/admin/commission-tiers", headers=finance.headers)
    assert current.json()["data"]["tiers"] == {"standard": 1000, "gold": 500}


async def test_tiers_need_finance_and_valid_rates(api, client):
    ops = await api.admin("ops")
    finance = await api.admin("finance")
    body = {"tiers": {"standard": 800}}
    assert (await client.put("/api/admin/commission-tiers", json=body,
                             headers=ops.headers)).status_code == 403
    for bad in ({"tiers": {"standard": 10001}}, {"tiers": {"gold": 500}},
                {"tiers": {"standard": 10.5}}, {"tiers": {"standard": -1}}):
        response = await client.put("/api/admin/commission-tiers", json=bad,
                                    headers=finance.headers)
        assert response.status_code == 422, bad
    current = await client.get("/api/admin/commission-tiers", headers=finance.headers)
    assert current.json()["data"]["tiers"] == {"standard": 1000}
