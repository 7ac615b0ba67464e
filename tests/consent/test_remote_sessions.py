"""Remote port sessions: who may open one, the agents' token, the hash-chained log, and every
way a session ends (a party, revocation, the consent's expiry, a silent agent)."""

import asyncio
import hashlib
from datetime import timedelta

from app.consent import tasks
from app.core import clock
from tests.consent.factories import (
    decide,
    end_session,
    granted_consent,
    live_session,
    open_session,
    send_event,
    session_log,
    software_job,
    verify_token,
)
from tests.helpers import assert_error, field_errors
from tests.repairs.factories import data_of, status


async def test_refusals_of_opening_a_session(api, mongo_db):
    offline, offline_customer, offline_technician, _ = await software_job(
        api, mode="offline", skills=["software", "hardware"])
    await granted_consent(api, offline_technician, offline_customer, offline["id"],
                          ["imei_access"])
    refused = assert_error(await open_session(api, offline_technician, offline["id"]), 422)
    assert refused["data"]["code"] == "ONLINE_ONLY"

    repair, customer, technician, _ = await software_job(api)
    assert assert_error(await open_session(api, technician, repair["id"]),
                        403)["data"]["code"] == "CONSENT_REQUIRED"
    await granted_consent(api, technician, customer, repair["id"], ["imei_access"])
    assert assert_error(await open_session(api, technician, repair["id"]),
                        403)["data"]["code"] == "CONSENT_REQUIRED"
    assert_error(await open_session(api, customer, repair["id"]), 403)
    assert_error(await open_session(api, await api.admin("compliance"), repair["id"]), 403)
    assert_error(await open_session(api, await api.technician(), repair["id"]), 404)
    assert await mongo_db.remote_sessions.count_documents({}) == 0


async def test_open_verify_log_and_end(api, mongo_db):
    repair, customer, technician, consent, opened = await live_session(api)
    rid, sid, token = repair["id"], opened["sessionId"], opened["sessionToken"]
    assert opened["expiresAt"] == consent["expiresAt"]  # never later than the consent
    stored = await mongo_db.remote_sessions.find_one({"_id": sid})
    assert stored["token_sha256"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(stored) and stored["status"] == "active"
    assert assert_error(await open_session(api, technician, rid),
                        409)["data"]["code"] == "SESSION_ACTIVE"

    verified = data_of(await verify_token(api, token))
    assert verified == {"live": True, "sessionId": sid, "expiresAt": opened["expiresAt"]}
    assert data_of(await verify_token(api, "not-a-token"))["live"] is False

    first = data_of(await send_event(api, technician, rid, sid, token, "port_open", "COM3"), 201)
    second = data_of(await send_event(api, technician, rid, sid, token, "command",
                                      "fastboot flash boot boot.img"), 201)
    assert (first["seq"], second["seq"]) == (1, 2)
    assert first["prevHash"] == "0" * 64 and second["prevHash"] == first["hash"]
    assert_error(await send_event(api, technician, rid, sid, "wrong"), 403)
    assert_error(await send_event(api, customer, rid, sid, token), 403)
    assert "body.detail" in field_errors(await send_event(api, technician, rid, sid, token,
                                                         "note", "é" * 1025))
    data_of(await send_event(api, technician, rid, sid, token, "note", "é" * 1024), 201)
    assert "body.type" in field_errors(await send_event(api, technician, rid, sid, token, "x"))

    log = data_of(await session_log(api, customer, rid, sid))
    assert log["status"] == "active" and log["chainValid"] is True
    assert [e["type"] for e in log["events"]] == ["port_open", "command", "note"]
    assert data_of(await session_log(api, await api.admin("ops"), rid, sid))["chainValid"]
    assert_error(await session_log(api, await api.customer(), rid, sid), 404)

    ended = data_of(await end_session(api, customer, rid, sid))
    assert ended["status"] == "ended" and ended["endReason"] == "ended"
    assert assert_error(await send_event(api, technician, rid, sid, token),
                        409)["data"]["code"] == "SESSION_ENDED"
    assert_error(await end_session(api, technician, rid, sid), 409)
    assert data_of(await verify_token(api, token))["live"] is False
    assert await mongo_db.remote_session_events.count_documents({"session_id": sid}) == 3
    admin = await api.root_admin()
    await api.audited(admin, "remote_session.opened", sid)
    assert (await api.audited(admin, "remote_session.ended", sid))[0]["actorId"] == customer.id

    again = data_of(await open_session(api, technician, rid), 201)  # while consent lasts
    assert again["sessionId"] != sid


async def test_the_chain_detects_an_edited_or_deleted_event(api, mongo_db):
    repair, customer, technician, _, opened = await live_session(api)
    rid, sid, token = repair["id"], opened["sessionId"], opened["sessionToken"]
    for detail in ("one", "two", "three"):
        data_of(await send_event(api, technician, rid, sid, token, "command", detail), 201)
    assert data_of(await session_log(api, customer, rid, sid))["chainValid"] is True

    await mongo_db.remote_session_events.update_one({"session_id": sid, "seq": 2},
                                                    {"$set": {"detail": "rm -rf /"}})
    assert data_of(await session_log(api, customer, rid, sid))["chainValid"] is False
    await mongo_db.remote_session_events.update_one({"session_id": sid, "seq": 2},
                                                    {"$set": {"detail": "two"}})
    assert data_of(await session_log(api, customer, rid, sid))["chainValid"] is True

    await mongo_db.remote_session_events.delete_one({"session_id": sid, "seq": 3})
    log = data_of(await session_log(api, customer, rid, sid))
    assert log["chainValid"] is False and len(log["events"]) == 2

    repair2, customer2, technician2, _, opened2 = await live_session(api)
    for detail in ("one", "two"):
        data_of(await send_event(api, technician2, repair2["id"], opened2["sessionId"],
                                 opened2["sessionToken"], "command", detail), 201)
    await mongo_db.remote_session_events.delete_one({"session_id": opened2["sessionId"],
                                                     "seq": 1})
    assert data_of(await session_log(api, customer2, repair2["id"],
                                     opened2["sessionId"]))["chainValid"] is False


async def test_revoking_mid_session_ends_it_and_the_next_event_is_refused(api, mongo_db):
    repair, customer, technician, consent, opened = await live_session(api)
    rid, sid, token = repair["id"], opened["sessionId"], opened["sessionToken"]
    data_of(await send_event(api, technician, rid, sid, token, "port_open", "USB"), 201)
    data_of(await decide(api, customer, rid, consent["id"], "revoke"))

    stored = await mongo_db.remote_sessions.find_one({"_id": sid})
    assert stored["status"] == "ended" and stored["end_reason"] == "consent_ended"
    refused = assert_error(await send_event(api, technician, rid, sid, token), 409)
    assert refused["data"] == {"code": "SESSION_ENDED", "endReason": "consent_ended"}
    assert assert_error(await open_session(api, technician, rid),
                        403)["data"]["code"] == "CONSENT_REQUIRED"
    assert await mongo_db.remote_session_events.count_documents({"session_id": sid}) == 1


async def test_a_silent_agent_times_out_by_the_movable_clock(api, mongo_db):
    repair, customer, technician, _, opened = await live_session(api)
    rid, sid, token = repair["id"], opened["sessionId"], opened["sessionToken"]
    clock.advance(timedelta(seconds=100))
    data_of(await send_event(api, technician, rid, sid, token, "heartbeat"), 201)
    clock.advance(timedelta(seconds=100))  # 200 s since the start, 100 since the heartbeat
    await tasks.run_timers()
    assert (await mongo_db.remote_sessions.find_one({"_id": sid}))["status"] == "active"
    data_of(await send_event(api, technician, rid, sid, token, "command", "ls"), 201)
    clock.advance(timedelta(seconds=21))  # a command is not a heartbeat: 121 s of silence
    await tasks.run_timers()
    stored = await mongo_db.remote_sessions.find_one({"_id": sid})
    assert stored["status"] == "ended" and stored["end_reason"] == "heartbeat_timeout"
    assert stored["ended_by"] == "system"
    assert assert_error(await send_event(api, technician, rid, sid, token),
                        409)["data"]["code"] == "SESSION_ENDED"
    await tasks.run_timers()  # a rerun changes nothing
    assert (await mongo_db.remote_sessions.find_one({"_id": sid}))["version"] == \
        stored["version"]


async def test_the_consent_running_out_ends_the_session(api, mongo_db):
    repair, customer, technician, _ = await software_job(api)
    await granted_consent(api, technician, customer, repair["id"], ["remote_port"], duration=5)
    opened = data_of(await open_session(api, technician, repair["id"]), 201)
    for _ in range(2):  # heartbeats keep it alive until the consent itself runs out (300 s)
        clock.advance(timedelta(seconds=110))
        data_of(await send_event(api, technician, repair["id"], opened["sessionId"],
                                 opened["sessionToken"]), 201)
    clock.advance(timedelta(seconds=81))
    await tasks.run_timers()
    stored = await mongo_db.remote_sessions.find_one({"_id": opened["sessionId"]})
    assert stored["status"] == "ended" and stored["end_reason"] == "consent_ended"
    assert await mongo_db.consents.count_documents({"status": "expired"}) == 1


async def test_concurrent_events_each_take_their_own_place_in_the_chain(api, mongo_db):
    repair, customer, technician, _, opened = await live_session(api)
    rid, sid, token = repair["id"], opened["sessionId"], opened["sessionToken"]
    sent = await asyncio.gather(*(send_event(api, technician, rid, sid, token, "command",
                                             f"step {n}") for n in range(5)))
    assert sorted(data_of(r, 201)["seq"] for r in sent) == [1, 2, 3, 4, 5]
    log = data_of(await session_log(api, technician, rid, sid))
    assert log["chainValid"] is True and len(log["events"]) == 5
    assert (await mongo_db.remote_sessions.find_one({"_id": sid}))["event_count"] == 5


async def test_finishing_the_job_ends_its_session(api, mongo_db):
    repair, customer, technician, _, opened = await live_session(api)
    rid, sid, token = repair["id"], opened["sessionId"], opened["sessionToken"]
    data_of(await status(api, technician, rid, "start"))
    data_of(await send_event(api, technician, rid, sid, token, "note", "working"), 201)
    data_of(await status(api, technician, rid, "complete", resolutionNotes="Reflashed"))
    refused = assert_error(await send_event(api, technician, rid, sid, token), 409)
    assert refused["data"] == {"code": "SESSION_ENDED", "endReason": "job_ended"}
    assert (await mongo_db.remote_sessions.find_one({"_id": sid}))["status"] == "ended"
    assert assert_error(await open_session(api, technician, rid),
                        409)["data"]["code"] == "JOB_NOT_ACTIVE"
