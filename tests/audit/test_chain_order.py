"""The audit log lists in chain order (newest `seq` first), entries are chained within a
second, and the ones still waiting for the sequencer are counted and listed apart."""

import asyncio
import time
from datetime import timedelta

from app.audit import tasks as audit_tasks
from app.core import clock
from tests.helpers import PASSWORD, Api, eventually, running_app, unique_email


async def every_page(api: Api, auditor, limit: int = 20, **params: str) -> list[dict]:
    seen: list[dict] = []
    cursor = None
    while True:
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        response = await api.client.get("/api/audit/logs", params=query, headers=auditor.headers)
        assert response.status_code == 200, response.text
        page = response.json()["data"]
        seen += page["items"]
        cursor = page["nextCursor"]
        if cursor is None:
            return seen


async def test_fifty_concurrent_audited_writes_list_in_strictly_descending_seq(
    api: Api, client, mongo_db
):
    responses = await asyncio.gather(*(
        client.post("/api/auth/signup", json={"email": unique_email("order"),
                                              "password": PASSWORD, "role": "customer",
                                              "name": "O"})
        for _ in range(50)
    ))
    assert [r.status_code for r in responses] == [201] * 50
    auditor = await api.admin("compliance")
    await api.sequenced_chain(auditor)

    listed = await every_page(api, auditor)

    seqs = [entry["seq"] for entry in listed]
    assert all(newer > older for newer, older in zip(seqs, seqs[1:], strict=False)), seqs
    assert sorted(seqs) == list(range(1, await mongo_db.audit_entries.count_documents({}) + 1))
    signups = await every_page(api, auditor, limit=7, action="user.signed_up")
    signup_seqs = [entry["seq"] for entry in signups]
    assert len(signups) == 50 and signup_seqs == sorted(signup_seqs, reverse=True)


async def test_the_listing_follows_the_chain_not_the_clock_of_whoever_wrote(
    api: Api, mongo_db
):
    auditor = await api.admin("compliance")
    clock.advance(timedelta(hours=1))  # an API process whose clock runs an hour ahead
    ahead = await api.signup()
    await api.audited(auditor, "user.signed_up", ahead.id)
    clock.reset()
    behind = await api.signup()
    await api.audited(auditor, "user.signed_up", behind.id)

    listed = await api.audit_entries(auditor, action="user.signed_up")

    assert [entry["subjectId"] for entry in listed[:2]] == [behind.id, ahead.id]
    assert listed[0]["seq"] > listed[1]["seq"] and listed[0]["at"] < listed[1]["at"]
    stored = await mongo_db.audit_entries.find_one({"subject_id": ahead.id})
    assert stored["seq"] == listed[1]["seq"]


async def test_an_audited_change_is_chained_within_a_second(api: Api, mongo_db):
    ops = await api.admin("ops")
    customer = await api.customer()
    await api.sequenced_chain(await api.root_admin())

    written = time.monotonic()
    changed = await api.set_status(ops, customer.id, "suspended", "Latency check")
    assert changed.status_code == 200, changed.text

    entry = await eventually(
        lambda: mongo_db.audit_entries.find_one({"action": "user.status_changed",
                                                 "subject_id": customer.id}),
        lambda e: e is not None and e.get("seq") is not None, timeout=1.0,
    )
    assert time.monotonic() - written < 1.0 and "pending" not in entry


async def test_pending_entries_are_counted_and_listed_apart_until_chained(
    config, mongo_db
):
    idle = config.model_copy(update={"background_tasks_enabled": False})
    async with running_app(idle) as http:
        api = Api(http)
        auditor = await api.admin("compliance")
        before = await mongo_db.audit_entries.count_documents({"pending": True})
        assert before >= 3  # bootstrap admin, its sign-in, the auditor's creation …

        report = await api.chain_report(auditor)
        chained = await api.audit_entries(auditor)
        pending = await api.audit_entries(auditor, pending="true")

        assert report["pending"] == before and report["valid"] is True
        assert report["checkedEntries"] == 0 and chained == []
        assert len(pending) == before and all(e["seq"] is None for e in pending)
        ids = [e["id"] for e in pending]
        assert ids == sorted(ids, reverse=True)

        assert await audit_tasks.sequence_pending() == before

        report = await api.chain_report(auditor)
        assert report["pending"] == 0 and report["checkedEntries"] == before
        assert await api.audit_entries(auditor, pending="true") == []
        assert [e["id"] for e in await api.audit_entries(auditor)] == ids


async def test_a_cursor_of_another_listing_is_refused(api: Api):
    auditor = await api.admin("compliance")
    await api.sequenced_chain(auditor)
    first = await api.client.get("/api/audit/logs", params={"limit": 1},
                                 headers=auditor.headers)
    cursor = first.json()["data"]["nextCursor"]

    crossed = await api.client.get("/api/audit/logs", params={"cursor": cursor, "pending": "true"},
                                   headers=auditor.headers)

    assert cursor and crossed.status_code == 400
