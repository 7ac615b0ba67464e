"""Reads (the caller's own list, the admins' filtered list, cursor pages) and the timers
(an accepted offline job not started in time: an alert, then back to matching)."""

from datetime import timedelta

import pytest

from app.core import clock
from app.repairs import tasks
from tests.helpers import assert_error
from tests.repairs.factories import (
    HOME,
    accepted_repair,
    alerts_of,
    book_hardware,
    book_software,
    data_of,
    get,
    later,
    status,
    technician_near,
)


async def _admin_list(api, admin, **params):
    return data_of(await api.client.get("/api/admin/repairs", params=params,
                                        headers=admin.headers))


async def test_admin_list_filters_and_pages(api, mongo_db):
    repair, customer, technician, profile = await accepted_repair(api)
    other = await api.customer()
    software = await book_software(api, other)
    clock.advance(timedelta(minutes=5))
    cutoff = clock.utcnow()
    clock.advance(timedelta(minutes=5))
    unassigned = await book_hardware(api, other, 13.2, 77.6)
    viewer = await api.admin("finance")  # any admin reads every repair

    everything = await _admin_list(api, viewer)
    assert [r["id"] for r in everything["items"]] == [unassigned["id"], software["id"],
                                                      repair["id"]]
    assert [r["id"] for r in (await _admin_list(api, viewer, status="accepted"))["items"]] == \
        [repair["id"]]
    assert [r["id"] for r in (await _admin_list(api, viewer, issueType="software"))["items"]] \
        == [software["id"]]
    assert [r["id"] for r in (await _admin_list(api, viewer, technicianId=profile["id"])
                              )["items"]] == [repair["id"]]
    assert [r["id"] for r in (await _admin_list(api, viewer, customerId=other.id))["items"]] \
        == [unassigned["id"], software["id"]]
    assert [r["id"] for r in (await _admin_list(api, viewer, **{"from": cutoff.isoformat()})
                              )["items"]] == [unassigned["id"]]
    assert [r["id"] for r in (await _admin_list(api, viewer, to=cutoff.isoformat()))["items"]] \
        == [software["id"], repair["id"]]
    first = await _admin_list(api, viewer, limit=2)
    assert len(first["items"]) == 2 and first["nextCursor"]
    rest = await _admin_list(api, viewer, limit=2, cursor=first["nextCursor"])
    assert [r["id"] for r in rest["items"]] == [repair["id"]] and rest["nextCursor"] is None
    assert all(r["imei"] in (None, "•" * 11 + "7518") for r in everything["items"])
    for caller in (customer, technician):
        assert_error(await api.client.get("/api/admin/repairs", headers=caller.headers), 403)


async def test_own_lists_and_status_filter(api, mongo_db):
    repair, customer, technician, profile = await accepted_repair(api)
    software = await book_software(api, customer)
    mine = data_of(await api.client.get("/api/repairs", headers=customer.headers))
    assert [r["id"] for r in mine["items"]] == [software["id"], repair["id"]]
    waiting = data_of(await api.client.get("/api/repairs", params={"status": "awaiting_assignment"},
                                           headers=customer.headers))
    assert [r["id"] for r in waiting["items"]] == [software["id"]]
    jobs = data_of(await api.client.get("/api/repairs", headers=technician.headers))
    assert [r["id"] for r in jobs["items"]] == [repair["id"]]
    # A job merely offered is not in the technician's list, only in its offers.
    other_tech, _ = await technician_near(api, (13.3, 77.6))
    offered = await book_hardware(api, customer, 13.3, 77.6)
    assert offered["status"] == "offered"
    assert data_of(await api.client.get("/api/repairs", headers=other_tech.headers))["items"] == []
    assert data_of(await get(api, other_tech, offered["id"]))["id"] == offered["id"]


async def test_an_unstarted_job_alerts_then_goes_back_to_matching(api, mongo_db):
    repair, customer, technician, profile = await accepted_repair(api, scheduledAt=later(60))
    doc = await mongo_db.repairs.find_one({"_id": repair["id"]})
    due = doc["start_due_at"]
    assert abs((due - clock.utcnow()).total_seconds() - 3600) < 60

    clock.advance(timedelta(minutes=60 + 120 - 2))
    await tasks.run_timers()
    assert await alerts_of(api, "repair_start_overdue") == []

    clock.advance(timedelta(minutes=3))
    await tasks.run_timers()
    alerts = await alerts_of(api, "repair_start_overdue")
    assert [a["subjectId"] for a in alerts] == [repair["id"]]
    assert alerts[0]["details"]["technicianId"] == profile["id"]
    await tasks.run_timers()  # a rerun raises nothing new and moves nothing
    assert len(await alerts_of(api, "repair_start_overdue")) == 1
    assert (await mongo_db.repairs.find_one({"_id": repair["id"]}))["status"] == "accepted"

    clock.advance(timedelta(minutes=61))
    _, fresh = await technician_near(api, HOME, km=1)
    await tasks.run_timers()

    moved = data_of(await get(api, customer, repair["id"]))
    assert moved["status"] == "offered" and moved["offer"]["technicianId"] == fresh["id"]
    assert moved["technicianId"] is None
    assert [(h["action"], h["toStatus"]) for h in moved["statusHistory"][-2:]] == [
        ("rematch", "unassigned"), ("offer", "offered")]
    assert (await get(api, technician, repair["id"])).status_code == 404


async def test_a_job_under_way_is_not_overdue(api, mongo_db):
    repair, customer, technician, _ = await accepted_repair(api)
    data_of(await status(api, technician, repair["id"], "start_travel"))
    clock.advance(timedelta(hours=5))
    await tasks.run_timers()
    assert await alerts_of(api, "repair_start_overdue") == []
    assert (await mongo_db.repairs.find_one({"_id": repair["id"]}))["status"] == "en_route"


@pytest.mark.settings()  # the default interval, not the package's (tests/repairs/conftest.py)
async def test_the_timers_run_as_a_leased_background_job(app):
    jobs = {job.name: job for job in app.fastapi.state.jobs.jobs}
    assert jobs["repair-timers"].interval == 5
