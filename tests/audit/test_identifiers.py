"""Audit entries name people by id, never by email: an address that is no account's appears
only as a keyed hash, the same for every guess of it so that guessing still correlates."""

import hashlib
import hmac
import json

import pytest
from pydantic import SecretStr

from tests.helpers import PASSWORD, Api, unique_email

IDENTIFIER_KEY = "audit-identifier-key-for-this-test-only-0123456789"


async def fail_login(api: Api, email: str) -> None:
    response = await api.client.post("/api/auth/login",
                                      json={"email": email, "password": "Wrong-Passw0rd-1"})
    assert response.status_code == 401, response.text


@pytest.mark.settings(audit={"identifier_key": SecretStr(IDENTIFIER_KEY)})
async def test_an_unknown_email_is_audited_only_as_its_keyed_hash(api: Api, mongo_db):
    guessed = unique_email("guess")
    expected = hmac.new(IDENTIFIER_KEY.encode(), guessed.encode(), hashlib.sha256).hexdigest()

    await fail_login(api, guessed)
    await fail_login(api, f"  {guessed.upper()} ")
    await fail_login(api, unique_email("other"))

    auditor = await api.admin("compliance")
    entries = await api.wait_for_audit(auditor, 3, action="auth.login_failed")
    assert [e["subjectId"] for e in entries if e["subjectId"] == expected] == [expected] * 2
    assert {e["subjectType"] for e in entries} == {"email_hash"}
    assert len({e["subjectId"] for e in entries}) == 2
    for entry in entries:
        assert entry["metadata"]["emailHash"] == entry["subjectId"]
    stored = await mongo_db.audit_entries.find({"action": "auth.login_failed"}).to_list()
    assert len(stored) == 3 and guessed.split("@")[0] not in json.dumps(stored, default=str)


async def test_no_audit_entry_holds_an_email_address(api: Api, mongo_db):
    customer = await api.customer()
    await api.signup("dealer")
    await api.admin("ops")
    for _ in range(5):
        await fail_login(api, customer.email)  # the fifth throttles this account and address
    await fail_login(api, unique_email("stranger"))
    auditor = await api.admin("compliance")

    await api.sequenced_chain(auditor)

    stored = await mongo_db.audit_entries.find().to_list()
    actions = {entry["action"] for entry in stored}
    assert {"user.signed_up", "admin.created", "auth.login_failed",
            "auth.login_throttled"} <= actions
    assert "@" not in json.dumps(stored, default=str)
    [lock] = await api.audited(auditor, "auth.login_throttled", customer.id)
    assert (lock["subjectType"], lock["actorId"]) == ("user", customer.id)
    assert set(lock["metadata"]) == {"emailHash", "scope", "throttleSeconds", "failures"}


async def test_failures_against_one_account_share_its_hash_whatever_the_spelling(api: Api):
    account = await api.signup()

    await fail_login(api, account.email)
    await fail_login(api, account.email.upper())
    accepted = await api.client.post("/api/auth/login",
                                     json={"email": account.email, "password": PASSWORD})

    assert accepted.status_code == 200
    auditor = await api.admin("compliance")
    failures = await api.audited(auditor, "auth.login_failed", account.id, count=2)
    assert len({entry["metadata"]["emailHash"] for entry in failures}) == 1
