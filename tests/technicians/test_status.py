from tests.helpers import assert_error
from tests.technicians.factories import (
    approved_technician,
    nearby,
    on_duty_technician,
    send_fix,
    set_available,
    submitted_technician,
)

SPOT = (12.9716, 77.5946)


async def _status(api, admin, technician_id, **body):
    return await api.client.patch(f"/api/technicians/{technician_id}/status", json=body,
                                  headers=admin.headers)


async def _found(api, customer, technician_id):
    response = await nearby(api, customer, *SPOT)
    assert response.status_code == 200, response.text
    return technician_id in {item["technicianId"] for item in response.json()["data"]["items"]}


async def test_approval_activates_account_and_is_audited(api, client):
    account, technician = await submitted_technician(api)
    ops = await api.admin("ops")
    response = await _status(api, ops, technician["id"], action="approve")
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["status"] == "approved" and data["available"] is False
    assert [h["action"] for h in data["statusHistory"]] == ["submit", "approve"]
    assert (await api.me(account)).json()["data"]["status"] == "active"
    root = await api.root_admin()
    entries = await api.audited(root, "technician.approve", technician["id"])
    assert entries[0]["actorId"] == ops.id
    account_entries = await api.audited(root, "user.status_changed", account.id)
    assert account_entries[0]["changes"]["status"] == {"from": "pending", "to": "active"}


async def test_rejection_needs_reason_and_is_final(api, client, mongo_db):
    account, technician = await submitted_technician(api)
    compliance = await api.admin("compliance")
    assert_error(await _status(api, compliance, technician["id"], action="reject"), 422)
    rejected = await _status(api, compliance, technician["id"], action="reject",
                             reason="Certificate could not be verified")
    assert rejected.status_code == 200 and rejected.json()["data"]["status"] == "rejected"
    assert (await api.me(account)).json()["data"]["status"] == "pending"
    again = assert_error(await _status(api, compliance, technician["id"], action="approve"), 409)
    assert again["data"] == {"from": "rejected", "allowedActions": []}
    stored = await mongo_db.technicians.find_one({"_id": technician["id"]})
    assert stored["status"] == "rejected" and len(stored["status_history"]) == 2
    edit = await client.patch(f"/api/technicians/{technician['id']}", json={"bio": "again"},
                              headers=account.headers)
    assert_error(edit, 409)


async def test_only_ops_or_compliance_change_status(api, client, mongo_db):
    account, technician = await submitted_technician(api)
    finance = await api.admin("finance")
    assert_error(await _status(api, finance, technician["id"], action="approve"), 403)
    assert_error(await _status(api, account, technician["id"], action="approve"), 403)
    other_id = "tch_000000000000000000000000"
    ops = await api.admin("ops")
    assert_error(await _status(api, ops, other_id, action="approve"), 404)
    stored = await mongo_db.technicians.find_one({"_id": technician["id"]})
    assert stored["status"] == "pending"


async def test_illegal_transition_is_409_and_changes_nothing(api, client, mongo_db):
    _, technician = await approved_technician(api)
    ops = await api.admin("ops")
    before = await mongo_db.technicians.find_one({"_id": technician["id"]})
    for action in ("approve", "reject", "reinstate"):
        body = assert_error(await _status(api, ops, technician["id"], action=action,
                                          reason="Testing the table"), 409)
        assert body["data"] == {"from": "approved", "allowedActions": ["suspend", "block"]}
    after = await mongo_db.technicians.find_one({"_id": technician["id"]})
    assert after == before


async def test_suspension_takes_technician_out_of_search_and_account_follows(api, client,
                                                                            mongo_db):
    ops = await api.admin("ops")
    account, technician = await on_duty_technician(api, *SPOT, admin=ops)
    customer = await api.customer()
    assert await _found(api, customer, technician["id"])

    suspended = await _status(api, ops, technician["id"], action="suspend",
                              reason="Customer complaints under review")
    assert suspended.status_code == 200
    assert suspended.json()["data"]["available"] is False
    assert not await _found(api, customer, technician["id"])
    assert_error(await api.me(account), 401)  # the account is suspended: its sessions ended
    stored = await mongo_db.technicians.find_one({"_id": technician["id"]})
    assert stored["status"] == "suspended" and stored["search_cell"] is None
    cell = await mongo_db.technician_search_cells.find_one({"_id": stored["h3_cell"]})
    assert cell["entries"] == []

    blocked = await _status(api, ops, technician["id"], action="block", reason="Fraud confirmed")
    assert blocked.json()["data"]["status"] == "blocked"
    user = await mongo_db.users.find_one({"_id": account.id})
    assert user["status"] == "blocked"

    refused = await _status(api, ops, technician["id"], action="reinstate",
                            reason="Appeal upheld")
    assert refused.status_code == 403 and refused.json()["success"] is False
    assert (await mongo_db.technicians.find_one({"_id": technician["id"]}))["status"] == "blocked"
    lead = await api.admin("ops_lead")
    reinstated = await _status(api, lead, technician["id"], action="reinstate",
                               reason="Appeal upheld")
    assert reinstated.status_code == 200 and reinstated.json()["data"]["status"] == "approved"
    user = await mongo_db.users.find_one({"_id": account.id})
    assert user["status"] == "active"
    await api.login(account)
    assert not await _found(api, customer, technician["id"])  # goes available itself
    assert (await send_fix(api, account, technician["id"], *SPOT)).status_code == 201
    assert (await set_available(api, account, technician["id"])).status_code == 200
    assert await _found(api, customer, technician["id"])
    history = reinstated.json()["data"]["statusHistory"]
    assert [h["action"] for h in history] == ["submit", "approve", "suspend", "block", "reinstate"]
    root = await api.root_admin()
    entries = await api.audited(root, "technician.suspend", technician["id"])
    assert entries[0]["reason"] == "Customer complaints under review"
    lifted = (await api.audited(root, "technician.reinstate", technician["id"]))[0]
    assert (lifted["override"], lifted["reason"], lifted["actorId"]) == (True, "Appeal upheld",
                                                                         lead.id)
