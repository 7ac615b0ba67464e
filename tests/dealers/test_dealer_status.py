from tests.dealers.factories import approved_dealer, submitted_dealer


async def _status(api, admin, dealer_id, **body):
    return await api.client.patch(
        f"/api/dealers/{dealer_id}/status", json=body, headers=admin.headers
    )


async def test_approval_activates_account_and_publishes_profile(api, client):
    account, dealer = await submitted_dealer(api)
    me = await client.get("/api/users/me", headers=account.headers)
    assert me.json()["data"]["status"] == "pending"

    admin = await api.admin("ops")
    response = await _status(api, admin, dealer["id"], action="approve")
    assert response.status_code == 200, response.text
    assert response.json()["data"]["status"] == "approved"

    me = await client.get("/api/users/me", headers=account.headers)
    assert me.json()["data"]["status"] == "active"
    public = await client.get(f"/api/dealers/{dealer['id']}")
    assert public.status_code == 200
    body = public.json()["data"]
    assert body["businessName"] == dealer["businessName"]
    assert "gstin" not in body and "complianceDocs" not in body and "statusHistory" not in body

    compliance = await api.admin("compliance")
    entries = await api.wait_for_audit(compliance, subjectId=dealer["id"], action="dealer.approve")
    assert entries[0]["actorId"] == admin.id
    user_entries = await api.wait_for_audit(
        compliance, subjectId=account.id, action="user.status_changed"
    )
    assert user_entries[0]["changes"]["status"] == {"from": "pending", "to": "active"}


async def test_suspension_needs_reason_and_hides_profile(api, client):
    _, dealer = await approved_dealer(api)
    admin = await api.admin("ops")
    no_reason = await _status(api, admin, dealer["id"], action="suspend")
    assert no_reason.status_code == 422
    assert (await client.get(f"/api/dealers/{dealer['id']}")).status_code == 200

    suspended = await _status(api, admin, dealer["id"], action="suspend", reason="Expired licence")
    assert suspended.status_code == 200
    data = suspended.json()["data"]
    assert data["status"] == "suspended"
    assert [h["action"] for h in data["statusHistory"]] == ["submit", "approve", "suspend"]
    assert data["statusHistory"][-1]["reason"] == "Expired licence"
    assert (await client.get(f"/api/dealers/{dealer['id']}")).status_code == 404

    reinstated = await _status(api, admin, dealer["id"], action="reinstate", reason="Renewed")
    assert reinstated.json()["data"]["status"] == "approved"
    assert (await client.get(f"/api/dealers/{dealer['id']}")).status_code == 200


async def test_illegal_dealer_transition_is_409_and_changes_nothing(api, client):
    _, dealer = await approved_dealer(api)
    admin = await api.root_admin()
    before = (await client.get(f"/api/dealers/{dealer['id']}", headers=admin.headers)).json()
    response = await _status(api, admin, dealer["id"], action="approve")
    assert response.status_code == 409
    assert response.json()["data"]["allowedActions"] == ["suspend", "block"]
    after = (await client.get(f"/api/dealers/{dealer['id']}", headers=admin.headers)).json()
    assert after["data"] == before["data"]


async def test_blocked_dealer_reinstated_only_as_ops_lead_override(api, client, mongo_db):
    _, dealer = await approved_dealer(api)
    ops = await api.admin("ops")
    lead = await api.admin("ops_lead")
    compliance = await api.admin("compliance")
    assert (await _status(api, ops, dealer["id"], action="block", reason="Fraud")).status_code == 200

    plain = await _status(api, lead, dealer["id"], action="reinstate", reason="Appeal won")
    assert plain.status_code == 409
    for not_lead in (compliance, ops):
        refused = await _status(
            api, not_lead, dealer["id"], action="reinstate", reason="Appeal won", override=True
        )
        assert refused.status_code == 403 and refused.json()["success"] is False
    no_reason = await _status(api, lead, dealer["id"], action="reinstate", override=True)
    assert no_reason.status_code == 422 and no_reason.json()["success"] is False
    assert (await mongo_db.dealers.find_one({"_id": dealer["id"]}))["status"] == "blocked"
    override = await _status(
        api, lead, dealer["id"], action="reinstate", reason="Appeal won", override=True
    )
    assert override.status_code == 200
    assert override.json()["data"]["status"] == "approved"
    overrides = await api.wait_for_audit(compliance, override="true", subjectId=dealer["id"])
    assert overrides[0]["action"] == "dealer.reinstate"
    assert overrides[0]["reason"] == "Appeal won"


async def test_dealer_status_needs_admin_with_ops_or_compliance(api, client):
    _, dealer = await submitted_dealer(api)
    customer = await api.customer()
    finance = await api.admin("finance")
    assert (await _status(api, customer, dealer["id"], action="approve")).status_code == 403
    assert (await _status(api, finance, dealer["id"], action="approve")).status_code == 403
    admin = await api.root_admin()
    view = await client.get(f"/api/dealers/{dealer['id']}", headers=admin.headers)
    assert view.json()["data"]["status"] == "pending"


async def test_admin_lists_pending_dealers(api, client):
    _, pending = await submitted_dealer(api)
    _, approved = await approved_dealer(api)
    admin = await api.admin("ops")
    response = await client.get("/api/admin/dealers", params={"status": "pending"},
                                headers=admin.headers)
    ids = [item["id"] for item in response.json()["data"]["items"]]
    assert pending["id"] in ids and approved["id"] not in ids
