"""Consent requests: who may ask for what, the customer's answers, the record of a grant, the
one transition table, and expiry by the movable clock."""

import hashlib
from datetime import datetime, timedelta

from app.consent import tasks
from app.core import clock
from tests.consent.factories import (
    PURPOSE,
    consent_body,
    decide,
    granted_consent,
    request_consent,
    software_job,
)
from tests.helpers import assert_error, field_errors
from tests.repairs.factories import accepted_repair, data_of


async def test_technician_requests_and_the_customer_sees_the_versioned_screen(api, mongo_db):
    repair, customer, technician, profile = await software_job(api)
    requested = data_of(await request_consent(api, technician, repair["id"]), 201)
    assert requested["status"] == "pending"
    assert requested["scopes"] == ["imei_access", "remote_port"]
    assert requested["durationMinutes"] == 30 and requested["purpose"] == PURPOSE
    assert requested["grantedAt"] is None and requested["textVersion"] == "consent-screen/1"

    listed = data_of(await api.client.get(f"/api/repairs/{repair['id']}/consents",
                                          headers=customer.headers))["items"]
    assert [c["id"] for c in listed] == [requested["id"]]
    screen = listed[0]
    assert screen["technician"] == {"technicianId": profile["id"], "name": profile["name"],
                                    "verificationStatus": "approved"}
    assert [s["scope"] for s in screen["scopeTexts"]] == ["imei_access", "remote_port"]
    assert all(s["text"] and s["text"] in screen["text"] for s in screen["scopeTexts"])
    assert PURPOSE in screen["text"] and "30 minutes" in screen["text"]
    assert screen["textSha256"] == hashlib.sha256(screen["text"].encode()).hexdigest()
    assert screen["allowedActions"] == ["grant", "deny"]
    as_admin = data_of(await api.client.get(f"/api/repairs/{repair['id']}/consents",
                                            headers=(await api.admin("ops")).headers))["items"]
    assert [(c["id"], c["allowedActions"]) for c in as_admin] == [(requested["id"], [])]
    for outsider in (await api.technician(), await api.dealer(), await api.customer()):
        assert_error(await api.client.get(f"/api/repairs/{repair['id']}/consents",
                                          headers=outsider.headers), 404)
    stored = await mongo_db.consents.find_one({"_id": requested["id"]})
    assert stored["status"] == "pending" and stored["text_sha256"] == screen["textSha256"]
    entries = await api.audited(await api.root_admin(), "consent.requested", requested["id"])
    assert entries[0]["actorId"] == technician.id
    notes = await mongo_db.notifications.find_one({"user_id": customer.id,
                                                   "kind": "consent_requested"})
    assert notes is not None and notes["subject_id"] == repair["id"]


async def test_grant_records_when_where_what_text_and_hash(api, mongo_db):
    repair, customer, technician, _ = await software_job(api)
    requested = data_of(await request_consent(api, technician, repair["id"]), 201)
    # A spoofed X-Forwarded-For from an untrusted peer must not be recorded as the client.
    granted = data_of(await decide(api, customer, repair["id"], requested["id"], "grant",
                                   {"X-Forwarded-For": "203.0.113.9",
                                    "User-Agent": "ConsentTest/1.0"}))
    assert granted["status"] == "granted"
    assert granted["grantedIp"] == "127.0.0.1"
    assert granted["grantedUserAgent"] == "ConsentTest/1.0"
    granted_at = datetime.fromisoformat(granted["grantedAt"])
    assert datetime.fromisoformat(granted["expiresAt"]) - granted_at == timedelta(minutes=30)
    assert granted["textSha256"] == hashlib.sha256(granted["text"].encode()).hexdigest()
    assert granted["textVersion"] == "consent-screen/1"
    stored = await mongo_db.consents.find_one({"_id": requested["id"]})
    assert stored["granted_ip"] == "127.0.0.1" and stored["status"] == "granted"
    assert stored["granted_user_agent"] == "ConsentTest/1.0"
    assert [h["to_status"] for h in stored["history"]] == ["pending", "granted"]
    entry = (await api.audited(await api.root_admin(), "consent.granted", requested["id"]))[0]
    assert entry["actorId"] == customer.id
    assert entry["metadata"]["textSha256"] == granted["textSha256"]


async def test_refusals_of_a_request(api, mongo_db):
    repair, customer, technician, _ = await software_job(api)
    assert_error(await request_consent(api, customer, repair["id"]), 403)
    stranger = await api.technician()
    assert_error(await request_consent(api, stranger, repair["id"]), 404)
    assert_error(await request_consent(api, await api.dealer(), repair["id"]), 404)
    assert "body.purpose" in field_errors(await request_consent(
        api, technician, repair["id"], scopes=["remote_port"], purpose="short",
        durationMinutes=30))
    assert "body.durationMinutes" in field_errors(await request_consent(
        api, technician, repair["id"], **consent_body(duration=121)))
    assert "body.scopes.0" in field_errors(await request_consent(
        api, technician, repair["id"], scopes=["root"], purpose=PURPOSE, durationMinutes=30))
    assert await mongo_db.consents.count_documents({}) == 0

    first = data_of(await request_consent(api, technician, repair["id"]), 201)
    second = assert_error(await request_consent(api, technician, repair["id"]), 409)
    assert second["data"]["code"] == "CONSENT_PENDING"
    assert await mongo_db.consents.count_documents({"repair_id": repair["id"]}) == 1
    data_of(await decide(api, customer, repair["id"], first["id"], "deny"))
    data_of(await request_consent(api, technician, repair["id"]), 201)  # answered: ask again


async def test_imei_access_needs_the_software_skill_and_remote_port_an_online_job(api, mongo_db):
    hardware_job, _, hardware_technician, _ = await accepted_repair(api)
    refused = assert_error(await request_consent(
        api, hardware_technician, hardware_job["id"], **consent_body(["imei_access"])), 422)
    assert refused["data"]["ruleFlags"] == ["SOFTWARE_SKILL_REQUIRED"]

    offline, _, technician, _ = await software_job(api, mode="offline",
                                                  skills=["software", "hardware"])
    refused = assert_error(await request_consent(
        api, technician, offline["id"], **consent_body(["remote_port"])), 422)
    assert refused["data"]["ruleFlags"] == ["ONLINE_ONLY"]
    assert await mongo_db.consents.count_documents({}) == 0
    data_of(await request_consent(api, technician, offline["id"],
                                  **consent_body(["imei_access"])), 201)


async def test_one_transition_table_decides_every_answer(api, mongo_db):
    repair, customer, technician, _ = await software_job(api)
    requested = data_of(await request_consent(api, technician, repair["id"]), 201)
    rid, cid = repair["id"], requested["id"]
    assert_error(await decide(api, technician, rid, cid, "grant"), 403)
    assert_error(await decide(api, await api.admin("compliance"), rid, cid, "grant"), 403)
    assert_error(await decide(api, await api.customer(), rid, cid, "grant"), 404)
    illegal = assert_error(await decide(api, customer, rid, cid, "revoke"), 409)
    assert illegal["data"]["allowedActions"] == ["grant", "deny"]
    data_of(await decide(api, customer, rid, cid, "grant"))
    assert_error(await decide(api, customer, rid, cid, "grant"), 409)
    assert_error(await decide(api, customer, rid, cid, "deny"), 409)
    revoked = data_of(await decide(api, technician, rid, cid, "revoke"))
    assert revoked["status"] == "revoked" and revoked["endedAt"] is not None
    assert_error(await decide(api, customer, rid, cid, "revoke"), 409)
    stored = await mongo_db.consents.find_one({"_id": cid})
    assert stored["status"] == "revoked" and stored["ended_by"] == technician.id
    await api.audited(await api.root_admin(), "consent.revoked", cid)


async def test_consents_expire_by_themselves(api, mongo_db):
    repair, customer, technician, _ = await software_job(api)
    pending = data_of(await request_consent(api, technician, repair["id"],
                                            **consent_body(duration=5)), 201)
    clock.advance(timedelta(minutes=6))
    await tasks.run_timers()
    assert (await mongo_db.consents.find_one({"_id": pending["id"]}))["status"] == "expired"
    assert_error(await decide(api, customer, repair["id"], pending["id"], "grant"), 409)

    granted = await granted_consent(api, technician, customer, repair["id"], duration=5)
    clock.advance(timedelta(minutes=4))
    await tasks.run_timers()
    assert (await mongo_db.consents.find_one({"_id": granted["id"]}))["status"] == "granted"
    clock.advance(timedelta(minutes=2))
    # Checked at use time too: the list shows it expired before any timer ran.
    listed = data_of(await api.client.get(f"/api/repairs/{repair['id']}/consents",
                                          headers=customer.headers))["items"]
    assert {c["id"]: c["status"] for c in listed}[granted["id"]] == "expired"
    assert_error(await decide(api, customer, repair["id"], granted["id"], "revoke"), 409)
    await api.audited(await api.root_admin(), "consent.expired", granted["id"])
