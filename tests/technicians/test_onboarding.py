from tests.helpers import assert_error
from tests.technicians.factories import approved_technician, submitted_technician, technician_profile


async def test_submit_profile_creates_pending_profile_linked_to_account(api, client, mongo_db):
    account, technician = await submitted_technician(api)
    assert technician["status"] == "pending"
    assert technician["id"].startswith("tch_")
    assert technician["skills"] == ["hardware"]
    assert technician["available"] is False and technician["lastFix"] is None
    user = await mongo_db.users.find_one({"_id": account.id})
    assert user["technician_id"] == technician["id"] and user["status"] == "pending"

    again = await client.post("/api/technicians", json=technician_profile(), headers=account.headers)
    assert_error(again, 409)
    assert await mongo_db.technicians.count_documents({}) == 1


async def test_approval_activates_account(api, client):
    account, technician = await approved_technician(api)
    assert technician["status"] == "approved"
    me = await client.get("/api/users/me", headers=account.headers)
    assert me.json()["data"]["status"] == "active"
