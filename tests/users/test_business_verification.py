"""A customer who applied as a business buys B2B only once an admin verifies it."""

from tests.helpers import Api, assert_error, field_errors

BUSINESS = {"legalName": "Rao Mobiles Pvt Ltd", "gstin": "27ABCDE1234F1Z5"}


async def review(api: Api, admin, user_id: str, **body):
    return await api.client.patch(
        f"/api/users/{user_id}/business-verification", json=body, headers=admin.headers
    )


async def test_verifying_a_business_makes_the_customer_a_b2b_buyer(api: Api, mongo_db):
    buyer = await api.customer(business=BUSINESS)
    ops = await api.admin("ops")

    response = await review(api, ops, buyer.id, action="verify")

    assert response.status_code == 200, response.text
    user = response.json()["data"]
    assert user["buyerType"] == "b2b" and user["business"]["verification"] == "verified"
    assert user["business"]["verifiedAt"]
    me = (await api.me(buyer)).json()["data"]
    assert me["buyerType"] == "b2b"
    stored = await mongo_db.users.find_one({"_id": buyer.id})
    assert stored["buyer_type"] == "b2b"
    [entry] = await api.audited(await api.root_admin(), "user.business_verified", buyer.id)
    assert entry["actorId"] == ops.id
    assert entry["changes"]["buyerType"] == {"from": "b2c", "to": "b2b"}


async def test_rejecting_a_business_needs_a_reason(api: Api, mongo_db):
    buyer = await api.customer(business=BUSINESS)
    ops = await api.admin("ops")

    response = await review(api, ops, buyer.id, action="reject")

    assert field_errors(response) == {"body.reason"}
    stored = await mongo_db.users.find_one({"_id": buyer.id})
    assert stored["business"]["verification"] == "pending" and stored["buyer_type"] == "b2c"


async def test_rejected_business_stays_b2c_with_the_reason(api: Api):
    buyer = await api.customer(business=BUSINESS)
    ops = await api.admin("ops")

    response = await review(api, ops, buyer.id, action="reject", reason="GSTIN is cancelled")

    assert response.status_code == 200, response.text
    user = response.json()["data"]
    assert user["buyerType"] == "b2c"
    assert user["business"] == {**user["business"], "verification": "rejected",
                                "reason": "GSTIN is cancelled"}
    [entry] = await api.audited(await api.root_admin(), "user.business_rejected", buyer.id)
    assert entry["reason"] == "GSTIN is cancelled"


async def test_verifying_twice_is_a_conflict(api: Api):
    buyer = await api.customer(business=BUSINESS)
    ops = await api.admin("ops")
    await review(api, ops, buyer.id, action="verify")

    assert_error(await review(api, ops, buyer.id, action="verify"), 409)


async def test_customer_without_a_business_application_cannot_be_verified(api: Api, mongo_db):
    buyer = await api.customer()
    ops = await api.admin("ops")

    assert_error(await review(api, ops, buyer.id, action="verify"), 409)
    assert (await mongo_db.users.find_one({"_id": buyer.id}))["buyer_type"] == "b2c"


async def test_customer_cannot_verify_their_own_business(api: Api, mongo_db):
    buyer = await api.customer(business=BUSINESS)

    assert_error(await review(api, buyer, buyer.id, action="verify"), 403)
    assert (await mongo_db.users.find_one({"_id": buyer.id}))["buyer_type"] == "b2c"


async def test_unknown_review_action_is_422(api: Api):
    buyer = await api.customer(business=BUSINESS)
    ops = await api.admin("ops")

    assert field_errors(await review(api, ops, buyer.id, action="approve")) == {"body.action"}
