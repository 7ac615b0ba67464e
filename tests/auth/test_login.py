"""Signing in: one message for every bad credential, and a throttle per (email, IP) pair."""

import asyncio
from datetime import timedelta

from app.audit.service import email_fingerprint
from app.core import clock
from tests.helpers import PASSWORD, Api, assert_error, unique_email


async def login(client, email: str, password: str, trace_id: str | None = None):
    headers = {"X-Request-ID": trace_id} if trace_id else {}
    return await client.post(
        "/api/auth/login", json={"email": email, "password": password}, headers=headers
    )


async def test_wrong_password_and_unknown_email_get_the_same_401(api: Api, client, mongo_db):
    account = await api.signup()

    wrong_password = await login(client, account.email, "Wrong-Password-123")
    unknown_email = await login(client, unique_email("nobody"), PASSWORD)

    first, second = assert_error(wrong_password, 401), assert_error(unknown_email, 401)
    assert first["message"] == second["message"] == "Invalid email or password"
    assert first["data"] == second["data"] is None
    assert await mongo_db.refresh_tokens.count_documents({}) == 0


async def test_failed_login_is_audited_against_the_account(api: Api, client):
    account = await api.signup()

    await login(client, account.email, "Wrong-Password-123", trace_id="failed-login-0001")

    [entry] = await api.audited(await api.root_admin(), "auth.login_failed", account.id)
    assert entry["actorId"] == account.id and entry["metadata"]["recentFailures"] == 1
    assert entry["source"]["traceId"] == "failed-login-0001"
    assert entry["source"]["ip"] == "127.0.0.1"


async def test_successful_login_is_audited(api: Api, client):
    account = await api.signup()

    await login(client, account.email, PASSWORD, trace_id="good-login-00001")

    [entry] = await api.audited(await api.root_admin(), "auth.login_succeeded", account.id)
    assert (entry["actorId"], entry["actorRole"]) == (account.id, "customer")
    assert entry["source"]["traceId"] == "good-login-00001"


async def test_five_failures_throttle_that_email_from_that_address(api: Api, client, mongo_db):
    account = await api.signup()
    for attempt in range(5):
        response = await login(client, account.email, f"Wrong-Password-{attempt}")
        assert_error(response, 401)

    throttled = await login(client, account.email, PASSWORD)

    body = assert_error(throttled, 429)
    retry_after = int(throttled.headers["Retry-After"])
    assert 29 <= retry_after <= 30 and body["data"]["retryAfter"] == retry_after
    assert await mongo_db.refresh_tokens.count_documents({"user_id": account.id}) == 0
    pair = await mongo_db.login_throttles.find_one({"_id": f"pair:127.0.0.1:{account.email}"})
    assert (pair["failures"], pair["checking"], pair["used"]) == (5, 0, 5)
    admin = await api.root_admin()
    assert len(await api.audited(admin, "auth.login_failed", account.id, count=5)) == 5
    [throttle] = await api.audited(admin, "auth.login_throttled", account.id)
    assert throttle["metadata"] == {
        "emailHash": email_fingerprint(account.email), "scope": "pair", "throttleSeconds": 30,
        "failures": 5}
    assert throttle["source"]["ip"] == "127.0.0.1"


async def test_the_throttle_doubles_with_each_failure_after_it_runs_out_up_to_the_cap(
    api: Api, client
):
    account = await api.signup()
    for _ in range(5):
        await login(client, account.email, "Wrong-Password-1")
    seen = []
    for _ in range(6):
        refused = assert_error(await login(client, account.email, "Wrong-Password-1"), 429)
        seen.append(refused["data"]["retryAfter"])
        clock.advance(timedelta(seconds=refused["data"]["retryAfter"] + 1))
        # Once it has run out, one more guess is checked (and fails: 401)...
        assert_error(await login(client, account.email, "Wrong-Password-1"), 401)

    assert seen == [30, 60, 120, 240, 480, 900]
    # ... and the right password, after the throttle runs out, signs in and clears it.
    clock.advance(timedelta(seconds=901))
    assert (await login(client, account.email, PASSWORD)).status_code == 200
    assert_error(await login(client, account.email, "Wrong-Password-1"), 401)


async def test_throttle_applies_to_unknown_emails_too(client):
    email = unique_email("ghost")
    for _ in range(5):
        assert_error(await login(client, email, "Wrong-Password-1"), 401)

    assert_error(await login(client, email, "Wrong-Password-1"), 429)


async def test_throttle_of_one_account_leaves_others_alone(api: Api, client):
    victim, bystander = await api.signup(), await api.signup()
    for _ in range(5):
        await login(client, victim.email, "Wrong-Password-1")

    response = await login(client, bystander.email, PASSWORD)

    assert response.status_code == 200, response.text


async def test_success_before_the_fifth_failure_resets_the_count(api: Api, client, mongo_db):
    account = await api.signup()
    for _ in range(4):
        await login(client, account.email, "Wrong-Password-1")
    assert (await login(client, account.email, PASSWORD)).status_code == 200
    pair = await mongo_db.login_throttles.find_one({"_id": f"pair:127.0.0.1:{account.email}"})
    assert (pair["failures"], pair["checking"], pair["used"]) == (0, 0, 0)
    for _ in range(4):
        assert_error(await login(client, account.email, "Wrong-Password-1"), 401)

    assert (await login(client, account.email, PASSWORD)).status_code == 200


async def test_login_with_malformed_email_is_a_validation_error(client):
    response = await client.post("/api/auth/login", json={"email": "not-an-email", "password": "x"})

    body = assert_error(response, 422)
    assert body["data"]["errors"][0]["field"] == "body.email"


async def test_a_burst_of_concurrent_wrong_passwords_gets_at_most_five_checks(
    api: Api, client, mongo_db
):
    account = await api.signup()

    responses = await asyncio.gather(
        *(login(client, account.email, f"Wrong-Password-{n}") for n in range(20))
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [401] * 5 + [429] * 15
    assert_error(await login(client, account.email, PASSWORD), 429)
    pair = await mongo_db.login_throttles.find_one({"_id": f"pair:127.0.0.1:{account.email}"})
    assert (pair["failures"], pair["checking"]) == (5, 0)
    admin = await api.root_admin()
    assert len(await api.audited(admin, "auth.login_failed", account.id, count=5)) == 5
    assert len(await api.audited(admin, "auth.login_throttled", account.id)) == 1


async def test_concurrent_correct_sign_ins_of_one_account_all_succeed(api: Api, client, mongo_db):
    """Sign-ins in flight never refuse a correct password (they were counted before the
    check and got 429 once more than five were in flight)."""
    account = await api.signup()

    responses = await asyncio.gather(*(login(client, account.email, PASSWORD) for _ in range(20)))

    assert [r.status_code for r in responses] == [200] * 20, [r.text for r in responses]
    assert len({r.json()["data"]["refreshToken"] for r in responses}) == 20
    user = await mongo_db.users.find_one({"_id": account.id})
    assert len(user["session_ids"]) == 20
    pair = await mongo_db.login_throttles.find_one({"_id": f"pair:127.0.0.1:{account.email}"})
    assert (pair["failures"], pair["checking"], pair["used"]) == (0, 0, 0)
