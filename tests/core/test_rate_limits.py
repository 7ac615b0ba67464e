"""Per-minute limits by caller class, Retry-After, and blocking addresses that keep at it."""

import httpx
import pytest

from tests.helpers import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    PASSWORD,
    Api,
    assert_error,
    eventually,
    unique_email,
)

OTHER_IP = ("10.9.8.7", 50000)


def signup_body(email: str) -> dict[str, str]:
    return {"email": email, "password": PASSWORD, "role": "customer", "name": "R"}


def client_from(app, address: tuple[str, int]) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=address)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.mark.settings(rate_limits={"enabled": True, "public": 3})
async def test_public_auth_routes_are_limited_per_ip_with_retry_after(client, mongo_db):
    emails = [unique_email("rl") for _ in range(4)]

    responses = [await client.post("/api/auth/signup", json=signup_body(e)) for e in emails]

    assert [r.status_code for r in responses[:3]] == [201, 201, 201]
    body = assert_error(responses[3], 429)
    retry_after = int(responses[3].headers["Retry-After"])
    assert 1 <= retry_after <= 60 and body["data"]["retryAfter"] == retry_after
    assert await mongo_db.users.count_documents({"email": emails[3]}) == 0


@pytest.mark.settings(rate_limits={"enabled": True, "public": 20, "customer": 3})
async def test_signed_in_callers_each_have_their_own_budget(api: Api, client):
    first, second = await api.customer(), await api.customer()

    first_calls = [(await api.me(first)).status_code for _ in range(4)]
    second_calls = [(await api.me(second)).status_code for _ in range(3)]

    assert first_calls == [200, 200, 200, 429]
    assert second_calls == [200, 200, 200]


@pytest.mark.settings(rate_limits={"enabled": True, "public": 20, "customer": 2, "admin": 5})
async def test_admins_have_a_larger_budget_than_customers(api: Api):
    customer = await api.customer()
    admin = await api.root_admin()

    customer_calls = [(await api.me(customer)).status_code for _ in range(3)]
    admin_calls = [(await api.me(admin)).status_code for _ in range(5)]

    assert customer_calls == [200, 200, 429]
    assert admin_calls == [200] * 5


@pytest.mark.settings(rate_limits={"enabled": True, "public": 1})
async def test_address_rate_limited_five_times_is_blocked_and_the_block_is_audited(
    app, client, mongo_db
):
    emails = [unique_email("abuse") for _ in range(7)]
    statuses = []
    for email in emails:
        response = await client.post("/api/auth/signup", json=signup_body(email))
        statuses.append(response.status_code)

    blocked = await client.get("/api/users/me")

    assert statuses == [201, 429, 429, 429, 429, 429, 403]
    body = assert_error(blocked, 403)
    assert "blocked" in body["message"] and int(blocked.headers["Retry-After"]) > 800
    assert await mongo_db.users.count_documents({"email": {"$in": emails[1:]}}) == 0
    async with client_from(app, OTHER_IP) as elsewhere:
        login = await elsewhere.post(
            "/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        assert login.status_code == 200, login.text
        token = login.json()["data"]["accessToken"]
        logs = await eventually(lambda: elsewhere.get(
            "/api/audit/logs", params={"action": "security.ip_blocked"},
            headers={"Authorization": f"Bearer {token}"},
        ), lambda listed: listed.json()["data"]["items"] != [])  # listed once chained
    [entry] = logs.json()["data"]["items"]
    assert (entry["subjectType"], entry["subjectId"], entry["actorId"]) == ("ip", "127.0.0.1",
                                                                            "system")
    assert entry["source"]["ip"] == "127.0.0.1"


@pytest.mark.settings(rate_limits={"enabled": False, "public": 1})
async def test_rate_limits_can_be_switched_off(client):
    statuses = [
        (await client.post("/api/auth/login", json={"email": "a@example.com", "password": "x"}))
        .status_code
        for _ in range(5)
    ]

    assert statuses == [401] * 5
