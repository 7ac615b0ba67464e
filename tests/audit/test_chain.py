"""The audit trail is one gapless hash chain; editing or deleting any entry is detected."""

import asyncio

from tests.helpers import PASSWORD, Api, unique_email


async def some_audited_history(api: Api) -> None:
    ops = await api.admin("ops")
    customer = await api.customer()
    await api.set_status(ops, customer.id, "suspended", "Testing the chain")


def summary(report: dict) -> dict:
    return {key: report[key] for key in ("valid", "checkedEntries", "firstBrokenSeq", "pending",
                                         "problems")}


async def all_seqs(mongo_db) -> list[int]:
    return [e["seq"] for e in await mongo_db.audit_entries.find({}, {"seq": 1}).to_list()]


async def test_untampered_chain_verifies(api: Api, mongo_db):
    await some_audited_history(api)
    root = await api.root_admin()

    report = await api.sequenced_chain(root)

    total = await mongo_db.audit_entries.count_documents({})
    assert summary(report) == {"valid": True, "checkedEntries": total, "firstBrokenSeq": None,
                               "pending": 0, "problems": []}
    assert sorted(await all_seqs(mongo_db)) == list(range(1, total + 1))


async def test_entries_link_to_their_predecessor(api: Api, mongo_db):
    await some_audited_history(api)
    await api.sequenced_chain(await api.root_admin())

    entries = await mongo_db.audit_entries.find().sort("seq", 1).to_list()

    assert entries[0]["prev_hash"] == "0" * 64
    for previous, entry in zip(entries, entries[1:], strict=False):
        assert entry["prev_hash"] == previous["hash"] and len(entry["hash"]) == 64


async def test_editing_an_entry_in_the_database_is_detected_at_its_seq(api: Api, mongo_db):
    await some_audited_history(api)
    root = await api.root_admin()
    assert (await api.sequenced_chain(root))["valid"] is True
    victim = await mongo_db.audit_entries.find_one({"action": "user.status_changed"})

    await mongo_db.audit_entries.update_one(
        {"_id": victim["_id"]}, {"$set": {"reason": "Nothing to see here"}}
    )

    report = await api.chain_report(root)
    assert report["valid"] is False and report["firstBrokenSeq"] == victim["seq"]
    assert report["checkedEntries"] == victim["seq"] - 1


async def test_editing_the_actor_of_the_first_entry_is_detected(api: Api, mongo_db):
    root = await api.root_admin()
    await api.sequenced_chain(root)

    await mongo_db.audit_entries.update_one({"seq": 1}, {"$set": {"actor_id": "usr_someone"}})

    report = await api.chain_report(root)
    assert (report["valid"], report["firstBrokenSeq"]) == (False, 1)


async def test_deleting_an_entry_is_detected_at_its_seq(api: Api, mongo_db):
    await some_audited_history(api)
    root = await api.root_admin()
    await api.sequenced_chain(root)
    victim = await mongo_db.audit_entries.find_one({"action": "admin.created"})

    await mongo_db.audit_entries.delete_one({"_id": victim["_id"]})

    report = await api.chain_report(root)
    assert report["valid"] is False and report["firstBrokenSeq"] == victim["seq"]


async def test_deleting_the_newest_entry_is_detected(api: Api, mongo_db):
    await some_audited_history(api)
    root = await api.root_admin()
    report = await api.sequenced_chain(root)
    newest = report["checkedEntries"]

    await mongo_db.audit_entries.delete_one({"seq": newest})

    report = await api.chain_report(root)
    assert report["valid"] is False and report["firstBrokenSeq"] == newest


async def test_fifty_concurrent_audited_signups_keep_seq_gapless_and_the_chain_valid(
    api: Api, client, mongo_db
):
    emails = [unique_email("burst") for _ in range(50)]

    responses = await asyncio.gather(*(
        client.post("/api/auth/signup",
                    json={"email": e, "password": PASSWORD, "role": "customer", "name": "B"})
        for e in emails
    ))

    assert [r.status_code for r in responses] == [201] * 50
    root = await api.root_admin()
    report = await api.sequenced_chain(root)
    total = await mongo_db.audit_entries.count_documents({})
    assert summary(report) == {"valid": True, "checkedEntries": total, "firstBrokenSeq": None,
                               "pending": 0, "problems": []}
    assert sorted(await all_seqs(mongo_db)) == list(range(1, total + 1))
    signed_up = await mongo_db.audit_entries.count_documents({"action": "user.signed_up"})
    assert signed_up == 50 and total == 52  # + bootstrap admin + the admin's sign-in


async def test_concurrent_changes_of_different_kinds_chain_linearly(api: Api, client, mongo_db):
    ops = await api.admin("ops")
    customers = [await api.customer() for _ in range(10)]

    await asyncio.gather(
        *(api.set_status(ops, c.id, "suspended", "Bulk review") for c in customers),
        *(client.post("/api/auth/login", json={"email": c.email, "password": "Wrong-pass-1"})
          for c in customers),
        *(client.post("/api/auth/signup", json={"email": unique_email(), "password": PASSWORD,
                                                "role": "dealer", "name": "D"})
          for _ in range(10)),
    )

    report = await api.sequenced_chain(await api.root_admin())
    total = await mongo_db.audit_entries.count_documents({})
    assert report["valid"] is True and report["checkedEntries"] == total
    assert sorted(await all_seqs(mongo_db)) == list(range(1, total + 1))


async def test_a_failed_change_writes_no_audit_entry(api: Api, mongo_db):
    customer = await api.customer()
    ops = await api.admin("ops")
    before = await mongo_db.audit_entries.count_documents({})

    refused = await api.set_status(ops, customer.id, "suspended")

    assert refused.status_code == 422
    assert await mongo_db.audit_entries.count_documents({}) == before


async def test_verifying_while_entries_are_being_chained_never_reports_a_false_break(
    api: Api, client
):
    root = await api.root_admin()

    async def signups() -> None:
        await asyncio.gather(*(
            client.post("/api/auth/signup", json={"email": unique_email("live"),
                                                  "password": PASSWORD, "role": "customer",
                                                  "name": "L"})
            for _ in range(30)
        ))

    async def verifications() -> list[dict]:
        return [report for _ in range(5) for report in
                await asyncio.gather(*(api.chain_report(root) for _ in range(6)))]

    _, reports = await asyncio.gather(signups(), verifications())

    assert [r for r in reports if not r["valid"]] == []
    assert (await api.sequenced_chain(root))["valid"] is True
