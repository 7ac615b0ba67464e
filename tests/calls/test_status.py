"""Moving a call: the transition table, who may make each move, the ring timeout, the log."""

import asyncio
from datetime import timedelta

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from app.calls import tasks
from app.core import clock
from tests.calls.factories import (
    JobParties,
    call_doc,
    live_calls,
    logs,
    move,
    moved,
    repair_job,
    started,
)
from tests.helpers import Account, Api, assert_error


def party(job: JobParties, who: str) -> Account:
    return job.customer if who == "caller" else job.provider


async def test_callee_accepts_then_either_party_ends(api: Api, mongo_db: AsyncDatabase):
    job = await repair_job(api)
    call = await started(api, job.customer, job.id)

    active = await moved(api, job.provider, call["id"], "accept")

    assert active["status"] == "active" and active["answeredAt"]
    doc = await call_doc(mongo_db, call["id"])
    assert doc["status"] == "active" and doc["live"] is True and doc["answered_at"]

    ended = await moved(api, job.customer, call["id"], "end")

    assert ended["status"] == "ended" and ended["endReason"] == "hangup" and ended["endedAt"]
    doc = await call_doc(mongo_db, call["id"])
    assert (doc["status"], doc["live"], doc["ended_by"]) == ("ended", False, job.customer.id)
    admin = await api.root_admin()
    [accepted] = await api.audited(admin, "call.accepted", call["id"])
    assert accepted["actorId"] == job.provider.id
    assert accepted["changes"]["status"] == {"from": "ringing", "to": "active"}
    [end] = await api.audited(admin, "call.ended", call["id"])
    assert end["changes"]["status"] == {"from": "active", "to": "ended"}


@pytest.mark.parametrize(("action", "by", "status", "reason"), [
    ("reject", "callee", "rejected", "rejected"),
    ("cancel", "caller", "cancelled", "cancelled"),
])
async def test_a_ringing_call_is_rejected_or_cancelled(api: Api, mongo_db: AsyncDatabase,
                                                       action: str, by: str, status: str,
                                                       reason: str):
    job = await repair_job(api)
    call = await started(api, job.customer, job.id)

    data = await moved(api, party(job, by), call["id"], action)

    assert (data["status"], data["endReason"]) == (status, reason)
    assert data["answeredAt"] is None
    doc = await call_doc(mongo_db, call["id"])
    assert (doc["status"], doc["live"]) == (status, False)


@pytest.mark.parametrize(("action", "by"), [
    ("accept", "caller"), ("reject", "caller"), ("cancel", "callee"),
])
async def test_the_wrong_party_may_not_make_a_move(api: Api, mongo_db: AsyncDatabase,
                                                   action: str, by: str):
    job = await repair_job(api)
    call = await started(api, job.customer, job.id)

    assert_error(await move(api, party(job, by), call["id"], action), 403)

    doc = await call_doc(mongo_db, call["id"])
    assert (doc["status"], doc["version"], len(doc["events"])) == ("ringing", 1, 1)


ILLEGAL = [
    ("ringing", "end", "caller"),
    ("active", "accept", "callee"),
    ("active", "reject", "callee"),
    ("active", "cancel", "caller"),
    ("ended", "end", "caller"),
    ("ended", "accept", "callee"),
    ("rejected", "accept", "callee"),
    ("cancelled", "cancel", "caller"),
]


async def _call_in(api: Api, job: JobParties, status: str) -> str:
    call = await started(api, job.customer, job.id)
    if status in ("active", "ended"):
        await moved(api, job.provider, call["id"], "accept")
    if status == "ended":
        await moved(api, job.provider, call["id"], "end")
    if status == "rejected":
        await moved(api, job.provider, call["id"], "reject")
    if status == "cancelled":
        await moved(api, job.customer, call["id"], "cancel")
    return call["id"]


@pytest.mark.parametrize(("status", "action", "by"), ILLEGAL)
async def test_illegal_moves_are_409_and_change_nothing(api: Api, mongo_db: AsyncDatabase,
                                                        status: str, action: str, by: str):
    job = await repair_job(api)
    call_id = await _call_in(api, job, status)
    before = await call_doc(mongo_db, call_id)

    body = assert_error(await move(api, party(job, by), call_id, action), 409)

    assert (body["data"]["status"], body["data"]["action"]) == (status, action)
    assert await call_doc(mongo_db, call_id) == before


async def test_strangers_get_404_and_admins_403_on_a_move(api: Api, mongo_db: AsyncDatabase):
    job = await repair_job(api)
    call = await started(api, job.customer, job.id)
    stranger, admin = await api.technician(), await api.root_admin()

    assert_error(await move(api, stranger, call["id"], "accept"), 404)
    assert_error(await move(api, admin, call["id"], "cancel"), 403)
    assert_error(await move(api, job.provider, "call_000000000000000000000000", "accept"), 404)
    assert_error(await move(api, job.provider, call["id"], "miss"), 422)
    doc = await call_doc(mongo_db, call["id"])
    assert (doc["status"], doc["version"]) == ("ringing", 1)


async def test_concurrent_accept_and_cancel_one_wins(api: Api, mongo_db: AsyncDatabase):
    job = await repair_job(api)
    call = await started(api, job.customer, job.id)

    accept, cancel = await asyncio.gather(move(api, job.provider, call["id"], "accept"),
                                          move(api, job.customer, call["id"], "cancel"))

    assert sorted([accept.status_code, cancel.status_code]) == [200, 409], (accept.text,
                                                                           cancel.text)
    doc = await call_doc(mongo_db, call["id"])
    assert doc["status"] == ("active" if accept.status_code == 200 else "cancelled")
    assert (doc["version"], len(doc["events"])) == (2, 2)


async def test_an_unanswered_call_is_missed_after_the_ring_timeout(api: Api,
                                                                   mongo_db: AsyncDatabase):
    job = await repair_job(api)
    call = await started(api, job.customer, job.id)

    clock.advance(timedelta(seconds=44))
    await tasks.miss_unanswered_calls()
    assert (await call_doc(mongo_db, call["id"]))["status"] == "ringing"

    clock.advance(timedelta(seconds=2))
    await tasks.miss_unanswered_calls()
    await tasks.miss_unanswered_calls()  # safe to run twice

    doc = await call_doc(mongo_db, call["id"])
    assert (doc["status"], doc["live"], doc["end_reason"], doc["ended_by"]) == (
        "missed", False, "no_answer", "system")
    assert [event["event"] for event in doc["events"]] == ["started", "missed"]
    assert await live_calls(mongo_db, job.id) == []
    admin = await api.root_admin()
    [entry] = await api.audited(admin, "call.missed", call["id"])
    assert entry["actorId"] == "system"
    assert_error(await move(api, job.provider, call["id"], "accept"), 409)


async def test_an_answered_call_is_never_missed(api: Api, mongo_db: AsyncDatabase):
    job = await repair_job(api)
    call = await started(api, job.customer, job.id)
    await moved(api, job.provider, call["id"], "accept")

    clock.advance(timedelta(minutes=5))
    await tasks.miss_unanswered_calls()

    assert (await call_doc(mongo_db, call["id"]))["status"] == "active"


@pytest.mark.settings(calls={"ring_timeout_seconds": 10})
async def test_the_ring_timeout_is_a_setting(api: Api, mongo_db: AsyncDatabase):
    job = await repair_job(api)
    call = await started(api, job.customer, job.id)

    clock.advance(timedelta(seconds=11))
    await tasks.miss_unanswered_calls()

    assert (await call_doc(mongo_db, call["id"]))["status"] == "missed"


async def test_the_log_has_every_event_the_duration_and_the_end_reason(api: Api,
                                                                       mongo_db: AsyncDatabase):
    job = await repair_job(api)
    call = await started(api, job.customer, job.id, "audio")
    clock.advance(timedelta(seconds=5))
    await moved(api, job.provider, call["id"], "accept")
    clock.advance(timedelta(seconds=90))
    await moved(api, job.provider, call["id"], "end")

    response = await logs(api, job.customer, call["id"])

    assert response.status_code == 200, response.text
    log = response.json()["data"]
    assert (log["callId"], log["jobId"], log["type"], log["status"]) == (
        call["id"], job.id, "audio", "ended")
    assert log["participants"] == {"callerId": job.customer.id, "calleeId": job.provider.id}
    assert (log["duration"], log["endReason"], log["endedBy"], log["direction"]) == (
        90, "hangup", job.provider.id, "outgoing")
    assert [(e["event"], e["by"], e["fromStatus"], e["toStatus"]) for e in log["events"]] == [
        ("started", job.customer.id, None, "ringing"),
        ("accepted", job.provider.id, "ringing", "active"),
        ("ended", job.provider.id, "active", "ended"),
    ]
    assert all(e["at"] for e in log["events"])
    callee_view = (await logs(api, job.provider, call["id"])).json()["data"]
    assert callee_view["direction"] == "incoming"
    admin = await api.admin("ops")
    admin_view = await logs(api, admin, call["id"])
    assert admin_view.status_code == 200 and admin_view.json()["data"]["direction"] is None
    assert admin_view.json()["data"]["duration"] == 90


async def test_an_unanswered_calls_log_has_no_duration(api: Api):
    job = await repair_job(api)
    call = await started(api, job.customer, job.id)
    await moved(api, job.provider, call["id"], "reject")

    log = (await logs(api, job.customer, call["id"])).json()["data"]

    assert (log["duration"], log["endReason"], log["status"]) == (None, "rejected", "rejected")


async def test_strangers_may_not_read_a_calls_log(api: Api):
    job = await repair_job(api)
    call = await started(api, job.customer, job.id)
    stranger = await api.customer()

    assert_error(await logs(api, stranger, call["id"]), 404)
    assert_error(await logs(api, job.customer, "call_000000000000000000000000"), 404)
