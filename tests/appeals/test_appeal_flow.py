"""Suspended dealers and technicians appeal; admins uphold the suspension or reinstate the
account with the profile its suspension stopped, audited in one transaction."""

import asyncio
from datetime import timedelta

from app.core import clock
from tests.admin.factories import pending, queued
from tests.appeals.factories import decide, file, suspended_dealer, suspended_technician
from tests.helpers import Api, assert_error, field_errors
from tests.technicians.factories import approved_technician


async def test_reinstating_a_dealer_approves_its_profile_and_activates_its_account(
    api: Api, client, mongo_db
):
    ops = await api.admin("ops")
    account, dealer = await suspended_dealer(api, ops)

    filed = await file(api, account)
    again = await file(api, account, reason="Another try at the same thing")

    assert filed.status_code == 201, filed.text
    appeal = filed.json()["data"]
    assert appeal["userId"] == account.id and appeal["role"] == "dealer"
    assert appeal["dealerId"] == dealer["id"] and appeal["status"] == "open"
    assert appeal["suspensionReason"] == "Counterfeit part complaints under review"
    assert appeal["allowedActions"] == ["uphold", "reinstate"]
    assert assert_error(again, 409)["data"] == {"code": "APPEAL_ALREADY_OPEN"}
    listed = await client.get("/api/admin/appeals", params={"status": "open"},
                              headers=ops.headers)
    assert [a["id"] for a in listed.json()["data"]["items"]] == [appeal["id"]]

    decided = await decide(api, ops, appeal["id"], "reinstate", "Invoices check out")
    twice = await decide(api, ops, appeal["id"], "uphold")

    assert decided.status_code == 200, decided.text
    data = decided.json()["data"]
    assert data["status"] == "reinstated" and data["decidedBy"] == ops.id
    assert data["decisionNote"] == "Invoices check out" and data["allowedActions"] == []
    assert assert_error(twice, 409)["data"]["from"] == "reinstated"
    stored_dealer = await mongo_db.dealers.find_one({"_id": dealer["id"]})
    stored_account = await mongo_db.users.find_one({"_id": account.id})
    stored_appeal = await mongo_db.appeals.find_one({"_id": appeal["id"]})
    assert stored_dealer["status"] == "approved"
    assert stored_dealer["status_history"][-1]["action"] == "reinstate"
    assert stored_account["status"] == "active"
    assert stored_appeal["status"] == "reinstated" and "open_key" not in stored_appeal
    # The token it signed in with while suspended now reaches everything a dealer may.
    assert (await client.get("/api/orders", headers=account.headers)).status_code == 200
    notes = (await client.get("/api/notifications", headers=account.headers)).json()["data"][
        "items"]
    [note] = [note for note in notes if note["kind"] == "appeal_decided"]
    assert "Invoices check out" in note["message"]
    not_suspended = await file(api, account)
    assert assert_error(not_suspended, 409)["data"]["code"] == "ACCOUNT_NOT_SUSPENDED"
    root = await api.root_admin()
    [reinstated] = await api.audited(root, "appeal.reinstated", appeal["id"])
    assert reinstated["actorId"] == ops.id and reinstated["reason"] == "Invoices check out"
    assert reinstated["changes"]["status"] == {"from": "open", "to": "reinstated"}
    [filed_entry] = await api.audited(root, "appeal.filed", appeal["id"])
    assert filed_entry["actorId"] == account.id
    [dealer_entry] = await api.audited(root, "dealer.reinstate", dealer["id"])
    assert dealer_entry["reason"] == "Invoices check out" and dealer_entry["actorId"] == ops.id


async def test_upheld_technician_stays_suspended_and_may_appeal_again(
    api: Api, client, mongo_db
):
    compliance = await api.admin("compliance")
    account, technician = await suspended_technician(api, compliance)
    first = (await file(api, account)).json()["data"]

    upheld = await decide(api, compliance, first["id"], "uphold", "Complaints are verified")

    assert upheld.status_code == 200, upheld.text
    assert upheld.json()["data"]["status"] == "upheld"
    assert (await mongo_db.users.find_one({"_id": account.id}))["status"] == "suspended"
    assert (await mongo_db.technicians.find_one({"_id": technician["id"]}))["status"] == "suspended"
    notes = (await client.get("/api/notifications", headers=account.headers)).json()["data"][
        "items"]
    [note] = [note for note in notes if note["kind"] == "appeal_decided"]
    assert "suspension stands" in note["message"]
    mine = await client.get(f"/api/appeals/{first['id']}", headers=account.headers)
    assert mine.json()["data"]["decisionNote"] == "Complaints are verified"

    second = await file(api, account, reason="New evidence from the customer")
    assert second.status_code == 201, second.text
    reinstated = await decide(api, compliance, second.json()["data"]["id"], "reinstate")

    assert reinstated.status_code == 200, reinstated.text
    stored = await mongo_db.technicians.find_one({"_id": technician["id"]})
    assert stored["status"] == "approved"
    assert (await mongo_db.users.find_one({"_id": account.id}))["status"] == "active"
    own = await client.get("/api/appeals", headers=account.headers)
    assert [a["status"] for a in own.json()["data"]["items"]] == ["reinstated", "upheld"]


async def test_an_account_suspended_alone_is_reinstated_alone_and_a_lifted_one_is_409(
    api: Api, mongo_db
):
    ops = await api.admin("ops")
    # An admin suspends a technician's account only: its profile stays approved.
    technician_account, technician = await approved_technician(api)
    assert (await api.set_status(ops, technician_account.id, "suspended", "KYC lapsed")).is_success
    await api.login(technician_account)
    dealer_account, _ = await suspended_dealer(api, ops)
    technician_appeal = (await file(api, technician_account)).json()["data"]
    dealer_appeal = (await file(api, dealer_account)).json()["data"]
    # The dealer's account is let back in by another route before its appeal is decided.
    assert (await api.set_status(ops, dealer_account.id, "active", "Cleared by phone")).is_success

    technician_done = await decide(api, ops, technician_appeal["id"], "reinstate")
    stale = await decide(api, ops, dealer_appeal["id"], "reinstate")

    assert technician_done.status_code == 200, technician_done.text
    assert (await mongo_db.users.find_one({"_id": technician_account.id}))["status"] == "active"
    stored_technician = await mongo_db.technicians.find_one({"_id": technician["id"]})
    assert stored_technician["status"] == "approved"
    assert [move["action"] for move in stored_technician["status_history"]][-1] == "approve"
    [followed] = [e for e in await api.audited(await api.root_admin(), "user.status_changed",
                                                technician_account.id, count=3)
                  if e["changes"]["status"]["from"] == "suspended"]
    assert followed["metadata"] == {"followed": "appeal"} and followed["actorId"] == ops.id
    assert assert_error(stale, 409)["data"]["code"] == "ACCOUNT_NOT_SUSPENDED"
    stored = await mongo_db.appeals.find_one({"_id": dealer_appeal["id"]})
    assert stored["status"] == "open"  # nothing changed; upholding closes it
    assert (await decide(api, ops, dealer_appeal["id"], "uphold")).status_code == 200


async def test_two_concurrent_appeals_open_only_one(api: Api, mongo_db):
    account, _ = await suspended_dealer(api, await api.admin("ops"))

    responses = await asyncio.gather(*(file(api, account) for _ in range(3)))

    assert sorted(r.status_code for r in responses) == [201, 409, 409]
    assert await mongo_db.appeals.count_documents({"user_id": account.id}) == 1
    assert await mongo_db.audit_entries.count_documents({"action": "appeal.filed"}) == 1


async def test_open_appeals_queue_oldest_first_and_count(api: Api):
    ops = await api.admin("ops")
    accounts = [(await suspended_dealer(api, ops))[0] for _ in range(3)]
    filed = []
    for account in accounts:
        filed.append((await file(api, account)).json()["data"]["id"])
        clock.advance(timedelta(minutes=1))
    await decide(api, ops, filed[1], "uphold")

    queue = await queued(api, ops, "appeal")

    assert [item["subjectId"] for item in queue] == [filed[0], filed[2]]
    assert queue[0]["decideWith"] == {"method": "PATCH", "path": f"/api/admin/appeals/{filed[0]}"}
    assert await pending(api, ops, "appeal") == 2


async def test_appeals_are_private_validated_and_decided_by_ops_or_compliance_only(
    api: Api, client
):
    ops = await api.admin("ops")
    owner, _ = await suspended_dealer(api, ops)
    other, _ = await suspended_dealer(api, ops)
    appeal = (await file(api, owner)).json()["data"]

    assert_error(await client.get(f"/api/appeals/{appeal['id']}", headers=other.headers), 404)
    assert (await client.get("/api/appeals", headers=other.headers)).json()["data"]["items"] == []
    assert_error(await decide(api, ops, "apl_missing", "uphold"), 404)
    finance = await api.admin("finance")
    assert_error(await client.get("/api/admin/appeals", headers=finance.headers), 403)
    assert_error(await decide(api, finance, appeal["id"], "reinstate"), 403)
    assert field_errors(await file(api, other, accountId=owner.id)) == {"body.accountId"}
    assert field_errors(await file(api, other, reason="")) == {"body.reason"}
    assert field_errors(await decide(api, ops, appeal["id"], "reinstate", status="open")) == {
        "body.status"}
    assert field_errors(await decide(api, ops, appeal["id"], "approve")) == {"body.action"}
    assert field_errors(await decide(api, ops, appeal["id"], "uphold", note="")) == {"body.note"}
    page = await client.get("/api/admin/appeals", params={"limit": 1}, headers=ops.headers)
    assert [a["id"] for a in page.json()["data"]["items"]] == [appeal["id"]]
    assert page.json()["data"]["nextCursor"] is None
