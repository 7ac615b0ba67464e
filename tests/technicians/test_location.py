from datetime import datetime, timedelta

import h3
import pytest

from app.core import clock
from tests.helpers import assert_error, field_errors, running_app
from tests.technicians.factories import (
    approved_technician,
    fix_body,
    nearby,
    on_duty_technician,
    send_fix,
    submitted_technician,
)

SPOT = (12.9716, 77.5946)
KM_NORTH = 1 / 111.2  # about one kilometre of latitude


def _refused(response, *reasons):
    body = assert_error(response, 422)
    assert body["data"] == {"ruleFlags": ["LOCATION_IMPLAUSIBLE"], "reasons": list(reasons)}


async def test_accepted_fix_is_current_position_and_history(api, client, mongo_db):
    account, technician = await approved_technician(api)
    at = clock.utcnow().replace(microsecond=123000)
    response = await send_fix(api, account, technician["id"], *SPOT, accuracy=12.5, at=at)
    assert response.status_code == 201, response.text
    cell = h3.latlng_to_cell(*SPOT, 8)
    data = response.json()["data"]
    assert datetime.fromisoformat(data.pop("recordedAt")) == at
    assert data == {"lat": SPOT[0], "lng": SPOT[1], "accuracyM": 12.5, "h3Cell": cell}
    stored = await mongo_db.technicians.find_one({"_id": technician["id"]})
    assert stored["location"] == {"type": "Point", "coordinates": [SPOT[1], SPOT[0]]}
    assert stored["h3_cell"] == cell and stored["last_fix"]["accurate"] is True
    assert stored["search_cell"] is None  # approved, but not available yet
    history = await mongo_db.technician_locations.find({}).to_list()
    assert [(h["technician_id"], h["lat"], h["accuracy_m"]) for h in history] == [
        (technician["id"], SPOT[0], 12.5)]
    indexes = await mongo_db.technicians.index_information()
    assert indexes["location_2dsphere"]["key"] == [("location", "2dsphere")]
    assert indexes["by_h3_cell"]["key"] == [("h3_cell", 1)]
    ttl = (await mongo_db.technician_locations.index_information())["history_ttl"]
    assert ttl["expireAfterSeconds"] == 7 * 24 * 3600 and ttl["key"] == [("recorded_at", 1)]


async def test_ranges_are_validated(api, client, mongo_db):
    account, technician = await approved_technician(api)
    url = f"/api/technicians/{technician['id']}/location"
    for change, field in (({"lat": 90.5}, "body.lat"), ({"lng": -180.1}, "body.lng"),
                          ({"accuracyM": 0}, "body.accuracyM"),
                          ({"recordedAt": "2026-01-01T10:00:00"}, "body.recordedAt")):
        response = await client.post(url, json={**fix_body(*SPOT), **change},
                                     headers=account.headers)
        assert field in field_errors(response), response.text
    assert await mongo_db.technician_locations.count_documents({}) == 0


async def test_time_refusals_are_not_spoofing(api, client, mongo_db):
    account, technician = await approved_technician(api)
    tid = technician["id"]
    now = clock.utcnow()
    _refused(await send_fix(api, account, tid, *SPOT, at=now + timedelta(seconds=31)),
             "FUTURE_FIX")
    _refused(await send_fix(api, account, tid, *SPOT, at=now - timedelta(seconds=121)),
             "STALE_FIX")
    assert (await send_fix(api, account, tid, *SPOT, at=now + timedelta(seconds=29))).status_code \
        == 201
    _refused(await send_fix(api, account, tid, *SPOT, at=now + timedelta(seconds=29)),
             "OUT_OF_ORDER")
    _refused(await send_fix(api, account, tid, *SPOT, at=now), "OUT_OF_ORDER")
    assert await mongo_db.technician_spoofing_flags.count_documents({}) == 0
    assert await mongo_db.technician_locations.count_documents({}) == 1


async def test_spoofing_codes_are_one_flag_each_with_all_reasons(api, client, mongo_db):
    account, technician = await approved_technician(api)
    tid = technician["id"]
    start = clock.utcnow() - timedelta(seconds=90)
    assert (await send_fix(api, account, tid, *SPOT, at=start)).status_code == 201
    # 1 km in 60 s is 60 km/h: plausible.
    moved = (SPOT[0] + KM_NORTH, SPOT[1])
    assert (await send_fix(api, account, tid, *moved, at=start + timedelta(seconds=60))
            ).status_code == 201
    _refused(await send_fix(api, account, tid, *moved, at=start + timedelta(seconds=61),
                            isMock=True), "MOCK_LOCATION")
    # 10 km in 30 s is 1,200 km/h; also mock; also stale.
    far = (moved[0] + 10 * KM_NORTH, moved[1])
    _refused(await send_fix(api, account, tid, *far, at=start - timedelta(seconds=60) +
                            timedelta(seconds=150), isMock=True),
             "MOCK_LOCATION", "IMPOSSIBLE_SPEED")
    flags = await mongo_db.technician_spoofing_flags.find({}).sort("at", 1).to_list()
    assert [f["reasons"] for f in flags] == [["MOCK_LOCATION"],
                                             ["MOCK_LOCATION", "IMPOSSIBLE_SPEED"]]
    assert [f["rank_in_day"] for f in flags] == [1, 2]
    root = await api.root_admin()
    entries = await api.audited(root, "technician.location_spoofing_flagged", tid, count=2)
    assert {e["reason"] for e in entries} == {"MOCK_LOCATION", "MOCK_LOCATION, IMPOSSIBLE_SPEED"}
    stored = await mongo_db.technicians.find_one({"_id": tid})
    assert stored["last_fix"]["lat"] == moved[0]  # refused fixes never move the position


@pytest.mark.settings(technicians={"location_max_speed_kmh": 50})
async def test_max_speed_comes_from_settings(api, client):
    account, technician = await approved_technician(api)
    start = clock.utcnow() - timedelta(seconds=70)
    assert (await send_fix(api, account, technician["id"], *SPOT, at=start)).status_code == 201
    _refused(await send_fix(api, account, technician["id"], SPOT[0] + KM_NORTH, SPOT[1],
                            at=start + timedelta(seconds=60)), "IMPOSSIBLE_SPEED")


async def test_thirtieth_frozen_fix_claiming_speed_is_refused(api, client, mongo_db):
    account, technician = await approved_technician(api)
    tid = technician["id"]
    start = clock.utcnow() - timedelta(seconds=100)

    async def fix(n, speed):
        return await send_fix(api, account, tid, *SPOT, at=start + timedelta(seconds=n),
                              speedMps=speed)

    for n in range(10):
        assert (await fix(n, 3.0)).status_code == 201
    assert (await fix(10, 0.5)).status_code == 201  # standing still breaks the run
    for n in range(11, 40):
        assert (await fix(n, 3.0)).status_code == 201, n  # 29 in a row
    _refused(await fix(40, 3.0), "FROZEN_COORDINATES")
    _refused(await fix(41, 3.0), "FROZEN_COORDINATES")
    assert (await send_fix(api, account, tid, SPOT[0] + 0.0001, SPOT[1],
                           at=start + timedelta(seconds=42), speedMps=3.0)).status_code == 201
    assert await mongo_db.technician_spoofing_flags.count_documents({}) == 2


async def test_every_third_flag_makes_unavailable_and_alerts_once(api, client, mongo_db):
    account, technician = await on_duty_technician(api, *SPOT)
    tid = technician["id"]
    customer = await api.customer()
    ops = await api.admin("ops")

    async def found():
        items = (await nearby(api, customer, *SPOT)).json()["data"]["items"]
        return tid in {item["technicianId"] for item in items}

    async def alerts():
        response = await client.get("/api/admin/alerts",
                                    params={"kind": "location_spoofing"}, headers=ops.headers)
        assert response.status_code == 200
        return response.json()["data"]["items"]

    async def mock_fix():
        _refused(await send_fix(api, account, tid, *SPOT, isMock=True), "MOCK_LOCATION")

    await mock_fix()
    await mock_fix()
    assert await found() and await alerts() == []
    await mock_fix()
    assert not await found()
    me = (await client.get("/api/technicians/me", headers=account.headers)).json()["data"]
    assert me["available"] is False
    [alert] = await alerts()
    assert alert["subjectId"] == tid and alert["details"]["flagsInDay"] == 3

    for _ in range(3):  # the 6th: still unavailable, no second alert while one is open
        await mock_fix()
    assert len(await alerts()) == 1
    acknowledged = await client.patch(f"/api/admin/alerts/{alert['id']}",
                                      json={"acknowledged": True, "note": "Called him"},
                                      headers=ops.headers)
    assert acknowledged.status_code == 200
    for _ in range(3):  # the 9th: a new alert
        await mock_fix()
    assert len(await alerts()) == 2
    flags = await mongo_db.technician_spoofing_flags.find({}).sort("at", 1).to_list()
    assert [f["made_unavailable"] for f in flags] == [False, False, True] * 3

    # Going available again needs a fresh accurate fix taken after the lockout.
    again = assert_error(await client.patch(f"/api/technicians/{tid}/availability",
                                            json={"available": True}, headers=account.headers),
                         422)
    assert again["data"]["ruleFlags"] == ["LOCATION_REQUIRED"]
    assert (await send_fix(api, account, tid, *SPOT)).status_code == 201
    back = await client.patch(f"/api/technicians/{tid}/availability", json={"available": True},
                              headers=account.headers)
    assert back.status_code == 200 and await found()

    # Flags older than 24 hours no longer count.
    clock.advance(timedelta(hours=25))
    assert (await send_fix(api, account, tid, *SPOT)).status_code == 201
    await mock_fix()
    latest = await mongo_db.technician_spoofing_flags.find({}).sort("at", -1).to_list()
    assert latest[0]["rank_in_day"] == 1 and latest[0]["made_unavailable"] is False


async def test_inaccurate_fix_is_kept_but_out_of_search(api, client, mongo_db):
    account, technician = await on_duty_technician(api, *SPOT)
    tid = technician["id"]
    customer = await api.customer()

    async def found():
        items = (await nearby(api, customer, *SPOT)).json()["data"]["items"]
        return tid in {item["technicianId"] for item in items}

    assert (await send_fix(api, account, tid, *SPOT, accuracy=100.0)).status_code == 201
    assert await found()  # exactly 100 m is accurate
    assert (await send_fix(api, account, tid, *SPOT, accuracy=100.5)).status_code == 201
    assert not await found()
    stored = await mongo_db.technicians.find_one({"_id": tid})
    assert stored["available"] is True and stored["last_fix"]["accurate"] is False
    assert await mongo_db.technician_locations.count_documents({"technician_id": tid}) == 3
    assert (await send_fix(api, account, tid, *SPOT, accuracy=8.0)).status_code == 201
    assert await found()


async def test_only_the_approved_technician_sends_its_location(api, client, mongo_db):
    account, technician = await approved_technician(api)
    url = f"/api/technicians/{technician['id']}/location"
    other, _ = await approved_technician(api)
    assert_error(await client.post(url, json=fix_body(*SPOT), headers=other.headers), 404)
    for caller in (await api.customer(), await api.admin("ops")):
        assert_error(await client.post(url, json=fix_body(*SPOT), headers=caller.headers), 403)
    pending, pending_profile = await submitted_technician(api)
    assert_error(await client.post(f"/api/technicians/{pending_profile['id']}/location",
                                   json=fix_body(*SPOT), headers=pending.headers), 403)
    assert await mongo_db.technician_locations.count_documents({}) == 0


async def test_location_history_for_owner_and_admins(api, client):
    account, technician = await approved_technician(api)
    tid = technician["id"]
    start = clock.utcnow() - timedelta(seconds=60)
    for n in range(3):
        sent = await send_fix(api, account, tid, SPOT[0] + n * 0.001, SPOT[1],
                              at=start + timedelta(seconds=10 * n))
        assert sent.status_code == 201
    url = f"/api/technicians/{tid}/locations"
    own = await client.get(url, headers=account.headers)
    assert own.status_code == 200
    items = own.json()["data"]["items"]
    assert [round(i["lat"], 4) for i in items] == [round(SPOT[0] + n * 0.001, 4) for n in (2, 1, 0)]
    assert set(items[0]) == {"lat", "lng", "accuracyM", "recordedAt"}
    window = await client.get(url, params={"from": (start + timedelta(seconds=5)).isoformat(),
                                           "to": (start + timedelta(seconds=15)).isoformat()},
                              headers=(await api.admin("compliance")).headers)
    assert [round(i["lat"], 4) for i in window.json()["data"]["items"]] == [
        round(SPOT[0] + 0.001, 4)]
    other, _ = await approved_technician(api)
    assert_error(await client.get(url, headers=other.headers), 404)
    assert_error(await client.get(url, headers=(await api.customer()).headers), 404)


@pytest.mark.settings(rate_limits={"enabled": True})
async def test_technician_rate_limit_applies_to_location(api, client):
    # 30 requests a minute per technician: its profile submission and 29 fixes pass.
    account, technician = await approved_technician(api)
    statuses = [(await send_fix(api, account, technician["id"], *SPOT)).status_code
                for _ in range(29)]
    assert 429 not in statuses and 201 in statuses
    limited = await send_fix(api, account, technician["id"], *SPOT)
    body = assert_error(limited, 429)
    assert int(limited.headers["Retry-After"]) >= 1 and body["data"]["retryAfter"] >= 1


async def test_restart_on_the_same_database_keeps_the_indexes(api, client, config, mongo_db):
    account, technician = await approved_technician(api)
    assert (await send_fix(api, account, technician["id"], *SPOT)).status_code == 201
    async with running_app(config) as second:  # a second start reads the declared indexes
        response = await second.get("/ready")
        assert response.status_code == 200, response.text
    indexes = await mongo_db.technicians.index_information()
    assert indexes["location_2dsphere"]["2dsphereIndexVersion"] == 3
