"""Signed checkpoints: a database administrator who rewrites or truncates the chain (and
recomputes every hash) is caught by a checkpoint signed with a key outside the database."""

import base64
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr, ValidationError

from app.audit import checkpoints
from app.audit import tasks as audit_tasks
from app.audit.chain import GENESIS_HASH, entry_hash
from app.core.config import (
    AuditSettings,
    Settings,
)
from tests.helpers import Account, Api, assert_error, eventually
from tests.production import production_settings

CONFIGURED_KEY = Ed25519PrivateKey.generate()
CONFIGURED_KEY_B64 = base64.b64encode(CONFIGURED_KEY.private_bytes(
    serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
)).decode()


async def audited_history(api: Api) -> Account:
    """Some chained history and an auditor to read it: returns the auditor."""
    ops = await api.admin("ops")
    for reason in ("First review", "Second review"):
        customer = await api.customer()
        await api.set_status(ops, customer.id, "suspended", reason)
    auditor = await api.admin("compliance")
    assert (await api.sequenced_chain(auditor))["valid"] is True
    return auditor


def file_lines(config: Settings) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(config.audit.checkpoint_file).read_text().splitlines()]


def kinds(report: dict[str, Any]) -> list[tuple[str, int | None, str]]:
    return [(p["kind"], p["seq"], p["source"]) for p in report["problems"]]


async def rechain_from_genesis(mongo_db) -> int:
    """What an attacker with write access does after editing: recompute every hash and the
    head, so the chain on its own verifies again. Returns the head's seq."""
    prev = GENESIS_HASH
    entries = await mongo_db.audit_entries.find({"seq": {"$gte": 1}}).sort("seq", 1).to_list()
    for entry in entries:
        digest = entry_hash(entry, entry["seq"], prev)
        await mongo_db.audit_entries.update_one(
            {"_id": entry["_id"]}, {"$set": {"prev_hash": prev, "hash": digest}}
        )
        prev = digest
    await mongo_db.audit_chain_head.update_one(
        {"_id": "audit"}, {"$set": {"seq": entries[-1]["seq"], "hash": prev}}
    )
    return entries[-1]["seq"]


@pytest.mark.settings(audit={"checkpoint_interval_seconds": 0.2})
async def test_the_checkpoint_job_signs_the_head_into_the_file_and_the_database(
    api: Api, client, mongo_db, config: Settings
):
    auditor = await audited_history(api)
    head = await mongo_db.audit_chain_head.find_one({"_id": "audit"})

    stored = await eventually(
        lambda: mongo_db.audit_checkpoints.find_one({"seq": head["seq"]}), lambda c: c is not None
    )

    line = next(c for c in file_lines(config) if c["seq"] == head["seq"])
    assert line == {"chain": config.database.mongodb_db, "seq": head["seq"], "hash": head["hash"],
                    "at": stored["at"], "keyId": stored["key_id"], "signature": stored["signature"]}
    assert stat.S_IMODE(os.stat(config.audit.checkpoint_file).st_mode) == 0o600
    served = (await client.get("/api/audit/checkpoints/key")).json()["data"]
    public_key = serialization.load_pem_public_key(served["pem"].encode())
    public_key.verify(base64.b64decode(line["signature"]), checkpoints.signed_message(line))
    report = await api.chain_report(auditor)
    assert report["valid"] is True and report["problems"] == []
    assert report["checkpoints"]["lastSeq"] == head["seq"]
    assert report["checkpoints"]["verified"] == len(file_lines(config))


async def test_the_public_key_is_served_to_anyone_and_kept_across_restarts(
    client, config: Settings
):
    response = await client.get("/api/audit/checkpoints/key")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["traceId"] == response.headers["x-request-id"]
    data = body["data"]
    assert set(data) == {"keyId", "algorithm", "publicKey", "pem"} and data["algorithm"] == "Ed25519"
    key_file = Path(config.audit.signing_key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    kept = Ed25519PrivateKey.from_private_bytes(base64.b64decode(key_file.read_text()))
    raw = kept.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw)
    assert data["publicKey"] == base64.b64encode(raw).decode()
    pem_key = serialization.load_pem_public_key(data["pem"].encode())
    assert pem_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) == raw


@pytest.mark.settings(audit={"signing_key": SecretStr(CONFIGURED_KEY_B64)})
async def test_a_configured_signing_key_is_used_and_nothing_is_generated(client, config):
    data = (await client.get("/api/audit/checkpoints/key")).json()["data"]

    raw = CONFIGURED_KEY.public_key().public_bytes(serialization.Encoding.Raw,
                                                   serialization.PublicFormat.Raw)
    assert data["publicKey"] == base64.b64encode(raw).decode()
    assert not Path(config.audit.signing_key_file).exists()


async def test_rewriting_an_entry_and_recomputing_the_chain_is_caught_by_the_checkpoint(
    api: Api, mongo_db, config: Settings
):
    auditor = await audited_history(api)
    checkpoint = await audit_tasks.checkpoint_head(config)
    assert checkpoint is not None
    victim = await mongo_db.audit_entries.find_one({"reason": "First review"})

    await mongo_db.audit_entries.update_one(
        {"_id": victim["_id"]}, {"$set": {"reason": "Nothing to see here"}}
    )
    assert await rechain_from_genesis(mongo_db) == checkpoint["seq"]

    report = await api.chain_report(auditor)
    # The chain alone is consistent again: only the checkpoint shows the rewrite.
    assert report["firstBrokenSeq"] is None
    assert report["checkedEntries"] == checkpoint["seq"]
    assert report["valid"] is False
    assert kinds(report) == [("rewritten", checkpoint["seq"], "chain")]
    assert (await mongo_db.audit_entries.find_one({"_id": victim["_id"]}))["reason"] == \
        "Nothing to see here"


async def test_dropping_the_newest_entries_and_the_head_is_reported_as_truncation(
    api: Api, mongo_db, config: Settings
):
    auditor = await audited_history(api)
    checkpoint = await audit_tasks.checkpoint_head(config)
    assert checkpoint is not None
    keep = checkpoint["seq"] - 3
    kept_hash = (await mongo_db.audit_entries.find_one({"seq": keep}))["hash"]

    await mongo_db.audit_entries.delete_many({"seq": {"$gt": keep}})
    await mongo_db.audit_chain_head.update_one({"_id": "audit"},
                                               {"$set": {"seq": keep, "hash": kept_hash}})
    await mongo_db.audit_checkpoints.delete_many({})  # the file still has it

    report = await api.chain_report(auditor)
    assert report["firstBrokenSeq"] is None and report["checkedEntries"] == keep
    assert report["headSeq"] == keep
    assert report["valid"] is False
    assert ("truncated", checkpoint["seq"], "chain") in kinds(report)
    assert {kind for kind, _, _ in kinds(report)} == {"truncated"}
    assert report["checkpoints"]["database"] == 0 and report["checkpoints"]["file"] >= 1


async def test_a_deleted_head_with_checkpoints_left_is_truncation(
    api: Api, mongo_db, config: Settings
):
    auditor = await audited_history(api)
    checkpoint = await audit_tasks.checkpoint_head(config)
    assert checkpoint is not None

    await mongo_db.audit_entries.delete_many({})
    await mongo_db.audit_chain_head.delete_many({})

    report = await api.chain_report(auditor)
    assert report["valid"] is False and report["headSeq"] is None
    assert ("truncated", checkpoint["seq"], "chain") in kinds(report)


async def test_forged_checkpoints_in_the_file_and_the_database_are_reported(
    api: Api, mongo_db, config: Settings
):
    auditor = await audited_history(api)
    genuine = await audit_tasks.checkpoint_head(config)
    assert genuine is not None
    chain = config.database.mongodb_db
    attacker_key = Ed25519PrivateKey.generate()
    forged = checkpoints.sign(attacker_key, chain, genuine["seq"] + 5, "f" * 64, genuine["at"])
    altered = {**genuine, "seq": genuine["seq"] + 7, "hash": "e" * 64}  # genuine signature

    with open(config.audit.checkpoint_file, "a") as checkpoint_file:
        checkpoint_file.write(json.dumps(forged) + "\n")
    await mongo_db.audit_checkpoints.insert_one({
        "_id": "ckp_forged", "chain": chain, "seq": altered["seq"], "hash": altered["hash"],
        "at": altered["at"], "key_id": altered["keyId"], "signature": altered["signature"],
    })

    report = await api.chain_report(auditor)
    assert report["valid"] is False
    assert sorted(kinds(report)) == [("forged", genuine["seq"] + 5, "file"),
                                     ("forged", genuine["seq"] + 7, "database")]
    assert report["checkpoints"]["lastSeq"] == genuine["seq"]


async def test_checkpoints_of_another_chain_in_the_same_file_are_not_this_chains(
    api: Api, config: Settings
):
    auditor = await audited_history(api)
    other = checkpoints.sign(checkpoints.signing_key(config), "another_database", 10_000,
                             "a" * 64, "2026-01-01T00:00:00.000Z")
    Path(config.audit.checkpoint_file).parent.mkdir(parents=True, exist_ok=True)
    with open(config.audit.checkpoint_file, "a") as checkpoint_file:
        checkpoint_file.write(json.dumps(other) + "\n" + "not a checkpoint\n")

    report = await api.chain_report(auditor)

    assert kinds(report) == [("unreadable", None, "file")]


async def test_checkpointing_an_unmoved_head_writes_nothing(api: Api, mongo_db, config):
    await audited_history(api)
    first = await audit_tasks.checkpoint_head(config)
    count = await mongo_db.audit_checkpoints.count_documents({})

    again = await audit_tasks.checkpoint_head(config)

    assert first is not None and again is None
    assert await mongo_db.audit_checkpoints.count_documents({}) == count
    assert len(file_lines(config)) == count


async def test_verify_needs_audit_read_and_the_key_route_needs_no_one(api: Api, client):
    customer = await api.customer()

    assert_error(await client.get("/api/audit/verify", headers=customer.headers), 403)
    assert (await client.get("/api/audit/checkpoints/key")).status_code == 200


def test_production_refuses_to_start_without_a_signing_key() -> None:
    with pytest.raises(ValidationError, match="AUDIT_SIGNING_KEY"):
        production_settings(audit=AuditSettings(signing_key=None))
    accepted = production_settings(audit=AuditSettings(signing_key=SecretStr(CONFIGURED_KEY_B64)))
    assert accepted.audit.signing_key is not None
    with pytest.raises(ValidationError, match="32-byte"):
        AuditSettings(signing_key=SecretStr(base64.b64encode(os.urandom(16)).decode()))
