"""Assignment: admins with ops assign software jobs to software technicians only, reassign
with a reason until the job starts (after acceptance: only the ops leader, as an override);
an accept racing another accept, or a reassign, has exactly one winner; the offers route
answers before the technicians' `{techId}` route."""

import asyncio
from datetime import timedelta

from app.core import clock
from app.repairs import tasks
from tests.helpers import assert_error, field_errors
from tests.repairs.factories import (
    HOME,
    accepted_repair,
    assignment,
    book_hardware,
    book_software,
    data_of,
    get,
    my_offers,
    status,
    technician_near,
)
from tests.technicians.factories import approved_technician


async def test_software_jobs_go_only_to_software_technicians(api, mongo_db):
    ops = await api.admin("ops")
    customer = await api.customer()
    repair = await book_software(api, customer)
    _, hardware_only = await approved_technician(api, ops)
    software_account, software = await approved_technician(api, ops, skills=["software"])

    refused = await assignment(api, ops, repair["id"], "assign", technicianId=hardware_only["id"])
    assert "body.technicianId" in field_errors(refused)
    assert refused.json()["data"]["ruleFlags"] == ["SKILL_MISMATCH"]
    assert (await mongo_db.repairs.find_one({"_id": repair["id"]}))["status"] == \
        "awaiting_assignment"
    assert "body.technicianId" in field_errors(await assignment(api, ops, repair["id"], "assign"))

    offered = data_of(await assignment(api, ops, repair["id"], "assign",
                                       technicianId=software["id"]))
    assert offered["status"] == "offered" and offered["offer"]["technicianId"] == software["id"]
    assert [o["id"] for o in data_of(await my_offers(api, software_account))["items"]] == \
        [repair["id"]]
    accepted = data_of(await assignment(api, software_account, repair["id"], "accept"))
    assert accepted["status"] == "accepted" and accepted["technicianId"] == software["id"]
    assert accepted["offer"] is None
    mine = data_of(await api.client.get("/api/repairs", headers=software_account.headers))
    assert [r["id"] for r in mine["items"]] == [repair["id"]]
    entries = await api.audited(await api.root_admin(), "repair.assign", repair["id"])
    assert entries[0]["actorId"] == ops.id


async def test_who_may_assign(api, mongo_db):
    customer = await api.customer()
    repair = await book_software(api, customer)
    _, software = await approved_technician(api, skills=["software"])
    finance = await api.admin("finance")
    for caller in (customer, finance):
        response = await assignment(api, caller, repair["id"], "assign",
                                    technicianId=software["id"])
        assert_error(response, 403)
    stranger = await api.customer()
    assert_error(await assignment(api, stranger, repair["id"], "assign",
                                  technicianId=software["id"]), 404)
    assert (await mongo_db.repairs.find_one({"_id": repair["id"]}))["version"] == 1


async def test_two_concurrent_accepts_one_wins(api, mongo_db):
    technician, profile = await technician_near(api, HOME)
    customer = await api.customer()
    repair = await book_hardware(api, customer, *HOME)

    first, second = await asyncio.gather(assignment(api, technician, repair["id"], "accept"),
                                         assignment(api, technician, repair["id"], "accept"))

    assert sorted([first.status_code, second.status_code]) == [200, 409]
    doc = await mongo_db.repairs.find_one({"_id": repair["id"]})
    assert doc["status"] == "accepted" and doc["technician_id"] == profile["id"]
    assert [h["action"] for h in doc["status_history"]].count("accept") == 1


async def test_accept_racing_a_reassign_one_wins(api, mongo_db):
    ops = await api.admin("ops")
    technician, first = await technician_near(api, HOME, km=1, admin=ops)
    customer = await api.customer()
    repair = await book_hardware(api, customer, *HOME)
    _, other = await approved_technician(api, ops)

    accept, reassign = await asyncio.gather(
        assignment(api, technician, repair["id"], "accept"),
        assignment(api, ops, repair["id"], "reassign", technicianId=other["id"],
                   reason="Customer asked for another technician"))

    assert sorted([accept.status_code, reassign.status_code]) == [200, 409]
    doc = await mongo_db.repairs.find_one({"_id": repair["id"]})
    offers = {o["technician_id"]: o["outcome"]
              async for o in mongo_db.repair_offers.find({"repair_id": repair["id"]})}
    if accept.status_code == 200:
        assert doc["status"] == "accepted" and doc["technician_id"] == first["id"]
        assert offers == {first["id"]: "accepted"}
    else:
        assert doc["status"] == "offered" and doc["offer"]["technician_id"] == other["id"]
        assert offers == {first["id"]: "withdrawn", other["id"]: "pending"}


async def test_reassign_after_acceptance_is_the_ops_leads_override_until_in_progress(
        api, mongo_db):
    ops = await api.admin("ops_lead")
    repair, customer, technician, profile = await accepted_repair(api)
    _, other = await approved_technician(api, ops)
    plain_ops = await assignment(api, await api.admin("ops"), repair["id"], "reassign",
                                 technicianId=other["id"], reason="Technician fell ill")
    assert plain_ops.status_code == 403 and plain_ops.json()["success"] is False
    assert (await mongo_db.repairs.find_one({"_id": repair["id"]}))["status"] == "accepted"
    no_reason = await assignment(api, ops, repair["id"], "reassign", technicianId=other["id"])
    assert "body.reason" in field_errors(no_reason)

    moved = data_of(await assignment(api, ops, repair["id"], "reassign",
                                     technicianId=other["id"], reason="Technician fell ill"))

    assert moved["status"] == "offered" and moved["technicianId"] is None
    assert moved["offer"]["technicianId"] == other["id"]
    assert (await get(api, technician, repair["id"])).status_code == 404
    entries = await api.audited(await api.root_admin(), "repair.reassign", repair["id"])
    assert entries[0]["override"] is True and entries[0]["reason"] == "Technician fell ill"
    # Offered to the first technician before: never again.
    again = await assignment(api, ops, repair["id"], "reassign", technicianId=profile["id"],
                             reason="Changed my mind")
    assert again.json()["data"]["ruleFlags"] == ["TECHNICIAN_UNAVAILABLE"]

    started, _, started_tech, _ = await accepted_repair(api, spot=(13.05, 77.6))
    for action in ("start_travel", "arrive", "start"):
        data_of(await status(api, started_tech, started["id"], action))
    _, third = await approved_technician(api, ops)
    late = await assignment(api, ops, started["id"], "reassign", technicianId=third["id"],
                            reason="Too slow")
    assert_error(late, 409)
    assert (await mongo_db.repairs.find_one({"_id": started["id"]}))["status"] == "in_progress"


async def test_offers_route_is_matched_before_the_technician_route(api):
    technician, profile = await technician_near(api, HOME)
    assert data_of(await my_offers(api, technician))["items"] == []
    customer = await api.customer()
    repair = await book_hardware(api, customer, *HOME)

    response = await my_offers(api, technician)

    items = data_of(response)["items"]
    assert [i["id"] for i in items] == [repair["id"]]
    assert items[0]["offer"]["technicianId"] == profile["id"]
    assert "accept" in items[0]["allowedActions"]
    assert_error(await my_offers(api, customer), 403)
    # The technicians' own route still answers for a real id.
    me = data_of(await api.client.get(f"/api/technicians/{profile['id']}",
                                      headers=technician.headers))
    assert me["id"] == profile["id"]


async def test_an_accept_after_the_offer_expired_is_refused(api, mongo_db):
    technician, profile = await technician_near(api, HOME)
    customer = await api.customer()
    repair = await book_hardware(api, customer, *HOME)
    clock.advance(timedelta(seconds=121))
    before = await mongo_db.repairs.find_one({"_id": repair["id"]})

    late = await assignment(api, technician, repair["id"], "accept")

    assert_error(late, 409)
    assert await mongo_db.repairs.find_one({"_id": repair["id"]}) == before
    await tasks.expire_offers()
    doc = await mongo_db.repairs.find_one({"_id": repair["id"]})
    assert doc["status"] == "unassigned" and doc["technician_id"] is None
    offer = await mongo_db.repair_offers.find_one({"repair_id": repair["id"]})
    assert offer["outcome"] == "expired"


async def test_admins_assign_an_unassigned_hardware_job(api, mongo_db):
    ops = await api.admin("ops")
    customer = await api.customer()
    repair = await book_hardware(api, customer, *HOME)
    assert repair["status"] == "unassigned"
    _, software_only = await approved_technician(api, ops, skills=["software"])
    account, hardware = await approved_technician(api, ops)
    refused = await assignment(api, ops, repair["id"], "assign", technicianId=software_only["id"])
    assert refused.json()["data"]["ruleFlags"] == ["SKILL_MISMATCH"]
    assert "body.technicianId" in field_errors(
        await assignment(api, ops, repair["id"], "assign", technicianId="tch_missing"))

    offered = data_of(await assignment(api, ops, repair["id"], "assign",
                                       technicianId=hardware["id"]))

    assert offered["status"] == "offered" and offered["offer"]["technicianId"] == hardware["id"]
    note = await mongo_db.notifications.find_one({"kind": "repair_offer", "user_id": account.id})
    assert note["subject_id"] == repair["id"]
    # While it holds this offer, it cannot be given another.
    second = await book_hardware(api, customer, 13.2, 77.6)
    busy = await assignment(api, ops, second["id"], "assign", technicianId=hardware["id"])
    assert busy.json()["data"]["ruleFlags"] == ["TECHNICIAN_UNAVAILABLE"]
