from tests.dealers.factories import dealer_profile, submitted_dealer


async def test_pending_dealer_submits_profile_once(api, client):
    account, dealer = await submitted_dealer(api)
    assert dealer["status"] == "pending"
    assert dealer["userId"] == account.id
    assert dealer["statusHistory"][0]["toStatus"] == "pending"

    again = await client.post("/api/dealers", json=dealer_profile(), headers=account.headers)
    assert again.status_code == 409
    assert again.json()["success"] is False


async def test_invalid_gstin_and_pincode_are_rejected_and_nothing_saved(api, client):
    account = await api.login(await api.signup("dealer"))
    bad = dealer_profile(gstin="27ABCDE1234")
    bad["address"]["pincode"] = "01234"
    response = await client.post("/api/dealers", json=bad, headers=account.headers)
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["data"]["errors"]}
    assert fields == {"body.gstin", "body.address.pincode"}
    mine = await client.get("/api/dealers/me", headers=account.headers)
    assert mine.status_code == 404


async def test_unknown_fields_in_profile_are_rejected(api, client):
    account = await api.login(await api.signup("dealer"))
    body = dealer_profile(status="approved", commissionTier="zero")
    response = await client.post("/api/dealers", json=body, headers=account.headers)
    assert response.status_code == 422
    assert (await client.get("/api/dealers/me", headers=account.headers)).status_code == 404


async def test_gstin_already_registered_is_409(api, client):
    _, first = await submitted_dealer(api)
    account = await api.login(await api.signup("dealer"))
    response = await client.post(
        "/api/dealers", json=dealer_profile(gstin=first["gstin"]), headers=account.headers
    )
    assert response.status_code == 409


async def test_only_dealer_accounts_submit_profiles(api, client):
    customer = await api.customer()
    response = await client.post("/api/dealers", json=dealer_profile(), headers=customer.headers)
    assert response.status_code == 403


async def test_pending_profile_hidden_from_public_visible_to_owner_and_admin(api, client):
    account, dealer = await submitted_dealer(api)
    anonymous = await client.get(f"/api/dealers/{dealer['id']}")
    assert anonymous.status_code == 404
    other = await api.customer()
    assert (await client.get(f"/api/dealers/{dealer['id']}", headers=other.headers)).status_code == 404

    owner_view = await client.get(f"/api/dealers/{dealer['id']}", headers=account.headers)
    assert owner_view.status_code == 200
    assert owner_view.json()["data"]["complianceDocs"][0]["type"] == "gst_certificate"
    admin = await api.root_admin()
    admin_view = await client.get(f"/api/dealers/{dealer['id']}", headers=admin.headers)
    assert admin_view.json()["data"]["gstin"] == dealer["gstin"]
