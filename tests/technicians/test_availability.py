from datetime import timedelta

import pytest

from app.core import clock
from tests.helpers import assert_error
from tests.technicians.factories import (
    approved_technician,
    nearby,
    send_fix,
    set_available,
    submitted_technician,
)

SPOT = (19.0760, 72.8777)


async def _found(api, customer, technician_id):
    response = await nearby(api, customer, *SPOT)
    assert response.status_code == 200, response.text
    return technician_id in {item["technicianId"] for item in response.json()["data"]["items"]}


async def test_going_available_needs_a_fix_then_search_finds_it(api, client, mongo_db):
    account, technician = await approved_technician(api)
    tid = technician["id"]
    refused = assert_error(await set_available(api, account, tid), 422)
    assert refused["data"] == {"ruleFlags": ["LOCATION_REQUIRED"]}
    assert (await send_fix(api, account, tid, *SPOT)).status_code == 201
    response = await set_available(api, account, tid)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["available"] is True and data["searchable"] is True
    customer = await api.customer()
    assert await _found(api, customer, tid)
    stored = await mongo_db.technicians.find_one({"_id": tid})
    cell = await mongo_db.technician_search_cells.find_one({"_id": stored["h3_cell"]})
    assert [entry["id"] for entry in cell["entries"]] == [tid]

    off = await set_available(api, account, tid, available=False)
    assert off.status_code == 200 and off.json()["data"]["available"] is False
    assert not await _found(api, customer, tid)
    root = await api.root_admin()
    entries = await api.audited(root, "technician.availability_changed", tid, count=2)
    assert {(e["changes"]["available"]["to"]) for e in entries} == {True, False}


async def test_stale_fix_drops_out_by_itself(api, client, mongo_db):
    account, technician = await approved_technician(api)
    tid = technician["id"]
    assert (await send_fix(api, account, tid, *SPOT)).status_code == 201
    assert (await set_available(api, account, tid)).status_code == 200
    customer = await api.customer()
    assert await _found(api, customer, tid)
    clock.advance(timedelta(seconds=601))
    assert not await _found(api, customer, tid)  # no job: freshness is part of the query
    me = (await client.get("/api/technicians/me", headers=account.headers)).json()["data"]
    assert me["available"] is True and me["searchable"] is False
    assert (await set_available(api, account, tid, available=False)).status_code == 200
    refused = assert_error(await set_available(api, account, tid), 422)
    assert refused["data"]["ruleFlags"] == ["LOCATION_REQUIRED"]
    assert (await send_fix(api, account, tid, *SPOT)).status_code == 201
    assert (await set_available(api, account, tid)).status_code == 200
    assert await _found(api, customer, tid)


@pytest.mark.settings(technicians={"location_fresh_seconds": 60})
async def test_freshness_comes_from_settings(api, client):
    account, technician = await approved_technician(api)
    tid = technician["id"]
    assert (await send_fix(api, account, tid, *SPOT)).status_code == 201
    assert (await set_available(api, account, tid)).status_code == 200
    customer = await api.customer()
    clock.advance(timedelta(seconds=45))
    assert await _found(api, customer, tid)
    clock.advance(timedelta(seconds=20))
    assert not await _found(api, customer, tid)


async def test_only_the_approved_technician_changes_its_availability(api, client, mongo_db):
    account, technician = await approved_technician(api)
    other, _ = await approved_technician(api)
    assert_error(await set_available(api, other, technician["id"]), 404)
    customer = await api.customer()
    assert_error(await set_available(api, customer, technician["id"]), 403)
    pending, pending_profile = await submitted_technician(api)
    assert_error(await set_available(api, pending, pending_profile["id"]), 403)
    stored = await mongo_db.technicians.find_one({"_id": technician["id"]})
    assert stored["available"] is False and stored["version"] == 2
