"""The lifecycle over HTTP: the offline and online paths, complete needing notes, every
illegal move 409 with nothing changed (table-driven), 403 for roles that never take an
action, 404 for strangers, cancellations by customer (fee), technician (re-matched) and
admin (with a reason)."""

from typing import Any

import pytest

from tests.helpers import Account, Api, assert_error, field_errors
from tests.repairs.factories import (
    HOME,
    accepted_repair,
    assignment,
    book_hardware,
    book_software,
    data_of,
    get,
    in_progress_repair,
    status,
    technician_near,
)
from tests.technicians.factories import approved_technician

NOTES = {"resolutionNotes": "Replaced the display assembly"}


async def test_offline_path_to_completion(api, mongo_db):
    repair, customer, technician, profile = await accepted_repair(api)
    assert set(repair["allowedActions"]) == {"start_travel", "cancel"}
    for action, expected in (("start_travel", "en_route"), ("arrive", "on_site"),
                             ("start", "in_progress")):
        repair = data_of(await status(api, technician, repair["id"], action))
        assert repair["status"] == expected
    assert repair["startedAt"] is not None

    missing = await status(api, technician, repair["id"], "complete")
    assert "body.resolutionNotes" in field_errors(missing)
    assert (await mongo_db.repairs.find_one({"_id": repair["id"]}))["status"] == "in_progress"

    done = data_of(await status(api, technician, repair["id"], "complete", **NOTES))

    assert done["status"] == "completed" and done["completedAt"] is not None
    assert done["resolutionNotes"] == NOTES["resolutionNotes"]
    assert done["paymentId"] is None  # completing does not wait for payment
    assert [h["action"] for h in done["statusHistory"]] == [
        "book", "offer", "accept", "start_travel", "arrive", "start", "complete"]
    auditor = await api.root_admin()
    for action in ("accept", "start_travel", "arrive", "start", "complete"):
        entries = await api.audited(auditor, f"repair.{action}", repair["id"])
        assert entries[0]["actorId"] == technician.id, action
    seen = data_of(await get(api, customer, repair["id"]))
    assert seen["status"] == "completed" and seen["technicianId"] == profile["id"]
    public = data_of(await api.client.get(f"/api/technicians/{profile['id']}",
                                          headers=customer.headers))
    assert public["jobsCompleted"] == 1


async def test_online_path_skips_travel(api, mongo_db):
    ops = await api.admin("ops")
    customer = await api.customer()
    repair = await book_software(api, customer)
    account, technician = await approved_technician(api, ops, skills=["software"])
    data_of(await assignment(api, ops, repair["id"], "assign", technicianId=technician["id"]))
    data_of(await assignment(api, account, repair["id"], "accept"))

    assert_error(await status(api, account, repair["id"], "start_travel"), 409)
    started = data_of(await status(api, account, repair["id"], "start"))
    assert started["status"] == "in_progress"
    done = data_of(await status(api, account, repair["id"], "complete", **NOTES))
    assert done["status"] == "completed"


async def _job_in(api: Api, state: str) -> tuple[dict[str, Any], Account, Account | None]:
    """A hardware job in `state`: (repair, customer, its technician or offered one)."""
    customer = await api.customer()
    if state == "awaiting_assignment":
        return await book_software(api, customer), customer, None
    if state == "unassigned":
        return await book_hardware(api, customer, *HOME), customer, None
    if state == "offered":
        technician, _ = await technician_near(api, HOME)
        return await book_hardware(api, customer, *HOME), customer, technician
    repair, customer, technician, _ = await accepted_repair(api, customer)
    path = {"accepted": [], "en_route": ["start_travel"], "on_site": ["start_travel", "arrive"],
            "in_progress": ["start_travel", "arrive", "start"],
            "completed": ["start_travel", "arrive", "start", "complete"],
            "cancelled": ["cancel"]}[state]
    for action in path:
        caller = customer if action == "cancel" else technician
        body = NOTES if action == "complete" else {}
        repair = data_of(await status(api, caller, repair["id"], action, **body))
    return repair, customer, technician


TECHNICIAN_ACTIONS = ("start_travel", "arrive", "start", "complete")
LEGAL_FOR_TECHNICIAN = {"accepted": {"start_travel", "cancel"}, "en_route": {"arrive", "cancel"},
                        "on_site": {"start", "cancel"}, "in_progress": {"complete"},
                        "offered": {"accept", "decline"}}
CUSTOMER_MAY_CANCEL = {"awaiting_assignment", "unassigned", "offered", "accepted", "en_route",
                       "on_site"}
ADMIN_LEGAL = {"awaiting_assignment": {"assign", "cancel"}, "unassigned": {"assign", "cancel"},
               "offered": {"reassign", "cancel"}, "accepted": {"reassign", "cancel"},
               "en_route": {"reassign", "cancel"}, "on_site": {"reassign", "cancel"},
               "in_progress": {"cancel"}, "completed": set(), "cancelled": set()}


@pytest.mark.parametrize("state", ["awaiting_assignment", "unassigned", "offered", "accepted",
                                   "en_route", "on_site", "in_progress", "completed",
                                   "cancelled"])
async def test_every_illegal_move_is_409_and_changes_nothing(api, mongo_db, state):
    repair, customer, technician = await _job_in(api, state)
    assert repair["status"] == state
    ops = await api.admin("ops")
    before = await mongo_db.repairs.find_one({"_id": repair["id"]})
    tried = []
    if technician is not None:
        legal = LEGAL_FOR_TECHNICIAN.get(state, set())
        for action in TECHNICIAN_ACTIONS:
            if action not in legal:
                body = NOTES if action == "complete" else {}
                tried.append(await status(api, technician, repair["id"], action, **body))
        for action in ("accept", "decline"):
            if action not in legal:
                tried.append(await assignment(api, technician, repair["id"], action))
        if "cancel" not in legal:
            tried.append(await status(api, technician, repair["id"], "cancel", reason="Busy now"))
    if state not in CUSTOMER_MAY_CANCEL:
        tried.append(await status(api, customer, repair["id"], "cancel"))
    _, spare = await approved_technician(api, ops)
    for action in {"assign", "reassign"} - ADMIN_LEGAL[state]:
        tried.append(await assignment(api, ops, repair["id"], action, technicianId=spare["id"],
                                      reason="Rebalancing the queue"))
    if "cancel" not in ADMIN_LEGAL[state]:
        tried.append(await status(api, ops, repair["id"], "cancel", reason="Fraud suspected"))

    assert tried
    for response in tried:
        body = assert_error(response, 409)
        assert body["data"]["status"] == state, response.request.content
    after = await mongo_db.repairs.find_one({"_id": repair["id"]})
    assert after == before


async def test_roles_that_never_take_an_action_get_403(api, mongo_db):
    repair, customer, technician, profile = await accepted_repair(api)
    before = await mongo_db.repairs.find_one({"_id": repair["id"]})
    finance = await api.admin("finance")
    cases = [(customer, "start_travel", {}), (customer, "complete", NOTES),
             (finance, "cancel", {"reason": "Looks odd"}), (finance, "start_travel", {})]
    for caller, action, body in cases:
        assert_error(await status(api, caller, repair["id"], action, **body), 403)
    assert_error(await assignment(api, customer, repair["id"], "accept"), 403)
    assert_error(await assignment(api, technician, repair["id"], "assign",
                                  technicianId=profile["id"]), 403)
    assert await mongo_db.repairs.find_one({"_id": repair["id"]}) == before


async def test_strangers_get_404(api, mongo_db):
    repair, customer, technician, _ = await accepted_repair(api)
    other_customer = await api.customer()
    other_technician, _ = await technician_near(api, (13.1, 77.6))
    for stranger in (other_customer, other_technician):
        assert_error(await get(api, stranger, repair["id"]), 404)
        assert_error(await status(api, stranger, repair["id"], "cancel", reason="Not mine"), 404)
        assert_error(await assignment(api, stranger, repair["id"], "accept"), 404)
        mine = data_of(await api.client.get("/api/repairs", headers=stranger.headers))
        assert mine["items"] == []
    assert_error(await get(api, customer, "rep_missing"), 404)
    assert (await mongo_db.repairs.find_one({"_id": repair["id"]}))["status"] == "accepted"


@pytest.mark.settings(repairs={"cancellation_fee": 15_000})
async def test_customer_cancels_with_the_fee_after_acceptance(api, mongo_db):
    customer = await api.customer()
    early = await book_software(api, customer)
    cancelled = data_of(await status(api, customer, early["id"], "cancel"))
    assert cancelled["status"] == "cancelled" and cancelled["cancellationFee"] == 0

    repair, customer, technician, _ = await accepted_repair(api)
    late = data_of(await status(api, customer, repair["id"], "cancel", reason="Fixed it myself"))

    assert late["status"] == "cancelled" and late["cancellationFee"] == 15_000
    assert late["cancelledAt"] is not None
    entries = await api.audited(await api.root_admin(), "repair.cancel", repair["id"])
    assert entries[0]["metadata"]["cancellationFee"] == 15_000
    # The technician is free again: matched to the next job.
    again = await book_hardware(api, await api.customer(), *HOME)
    assert again["status"] == "offered"


async def test_customer_cancelling_an_offered_job_withdraws_the_offer(api, mongo_db):
    technician, profile = await technician_near(api, HOME)
    customer = await api.customer()
    repair = await book_hardware(api, customer, *HOME)
    data_of(await status(api, customer, repair["id"], "cancel"))
    offer = await mongo_db.repair_offers.find_one({"repair_id": repair["id"]})
    assert offer["outcome"] == "withdrawn"
    assert (await get(api, technician, repair["id"])).status_code == 404


async def test_technician_cancelling_rematches_in_the_request(api, mongo_db):
    ops = await api.admin("ops")
    repair, customer, technician, profile = await accepted_repair(api)
    next_account, next_one = await technician_near(api, HOME, km=2, admin=ops)
    assert "body.reason" in field_errors(await status(api, technician, repair["id"], "cancel"))

    moved = data_of(await status(api, technician, repair["id"], "cancel",
                                 reason="My scooter broke down"))

    assert moved["status"] == "offered" and moved["offer"]["technicianId"] == next_one["id"]
    assert moved["technicianId"] is None
    assert [(h["action"], h["toStatus"]) for h in moved["statusHistory"][-2:]] == [
        ("cancel", "unassigned"), ("offer", "offered")]
    assert (await get(api, technician, repair["id"])).status_code == 404
    # When the next one declines, the one who cancelled is not offered it again.
    final = data_of(await assignment(api, next_account, repair["id"], "decline"))
    assert final["status"] == "unassigned"
    doc = await mongo_db.repairs.find_one({"_id": repair["id"]})
    assert sorted(doc["offered_technician_ids"]) == sorted([profile["id"], next_one["id"]])


async def test_software_technician_cancelling_returns_to_the_admins(api, mongo_db):
    ops = await api.admin("ops")
    customer = await api.customer()
    repair = await book_software(api, customer)
    account, technician = await approved_technician(api, ops, skills=["software"])
    data_of(await assignment(api, ops, repair["id"], "assign", technicianId=technician["id"]))
    data_of(await assignment(api, account, repair["id"], "accept"))
    moved = data_of(await status(api, account, repair["id"], "cancel", reason="Out of my depth"))
    assert moved["status"] == "awaiting_assignment" and moved["technicianId"] is None


async def test_ops_lead_cancels_until_completed_with_a_reason(api, mongo_db):
    ops = await api.admin("ops_lead")
    repair, customer, technician, _ = await in_progress_repair(api)
    plain_ops = await status(api, await api.admin("ops"), repair["id"], "cancel",
                             reason="Customer reported fraud")
    assert plain_ops.status_code == 403 and plain_ops.json()["success"] is False
    assert (await mongo_db.repairs.find_one({"_id": repair["id"]}))["status"] == "in_progress"
    assert "body.reason" in field_errors(await status(api, ops, repair["id"], "cancel"))
    cancelled = data_of(await status(api, ops, repair["id"], "cancel",
                                     reason="Customer reported fraud"))
    assert cancelled["status"] == "cancelled" and cancelled["cancellationFee"] == 0
    entries = await api.audited(await api.root_admin(), "repair.cancel", repair["id"])
    assert entries[0]["override"] is True and entries[0]["actorId"] == ops.id
    # The customer sees that an admin acted, never which one.
    shown = data_of(await get(api, customer, repair["id"]))["statusHistory"][-1]
    assert shown["by"] == {"role": "admin"}
