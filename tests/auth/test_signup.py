"""Signing up: who may sign up, with what, and what the account looks like afterwards."""

import asyncio
from typing import Any

from tests.helpers import PASSWORD, Api, assert_error, field_errors, unique_email

GSTIN = "27ABCDE1234F1Z5"


def signup_body(**overrides: Any) -> dict[str, Any]:
    return {"email": unique_email(), "password": PASSWORD, "role": "customer", "name": "Asha",
            **overrides}


async def user_count(mongo_db, email: str) -> int:
    return await mongo_db.users.count_documents({"email": email.lower()})


async def test_signup_then_login_then_me_shows_the_profile_without_the_password_hash(
    api: Api, client, mongo_db
):
    body = signup_body(email="Asha.Rao@Example.COM", phone="+919812345678")

    signup = await client.post("/api/auth/signup", json=body)

    assert signup.status_code == 201, signup.text
    envelope = signup.json()
    assert envelope["success"] is True and envelope["traceId"]
    user = envelope["data"]["user"]
    assert user["email"] == "asha.rao@example.com"
    assert (user["role"], user["status"], user["buyerType"]) == ("customer", "active", "b2c")
    login = await client.post(
        "/api/auth/login", json={"email": "ASHA.RAO@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    tokens = login.json()["data"]
    assert tokens["tokenType"] == "bearer" and tokens["expiresIn"] == 900
    assert tokens["user"]["id"] == user["id"]
    me = await client.get(
        "/api/users/me", headers={"Authorization": f"Bearer {tokens['accessToken']}"}
    )
    assert me.status_code == 200, me.text
    profile = me.json()["data"]
    assert profile["id"] == user["id"] and profile["phone"] == "+919812345678"
    assert "hash" not in me.text.lower() and PASSWORD not in me.text
    assert "hash" not in signup.text.lower() and "hash" not in login.text.lower()
    stored = await mongo_db.users.find_one({"_id": user["id"]})
    assert stored["password_hash"].startswith("$argon2id$") and PASSWORD not in str(stored)


async def test_signup_as_admin_is_refused(client, mongo_db):
    body = signup_body(role="admin")

    response = await client.post("/api/auth/signup", json=body)

    assert field_errors(response) == {"body.role"}
    assert await user_count(mongo_db, body["email"]) == 0


async def test_signup_with_an_unknown_field_is_refused(client, mongo_db):
    body = signup_body(scopes=["superadmin"])

    response = await client.post("/api/auth/signup", json=body)

    assert field_errors(response) == {"body.scopes"}
    assert await user_count(mongo_db, body["email"]) == 0


async def test_duplicate_email_is_a_conflict_whatever_its_case(api: Api, client, mongo_db):
    first = await api.signup(email="dup.user@example.com")

    response = await client.post(
        "/api/auth/signup", json=signup_body(email="Dup.User@EXAMPLE.com", role="dealer")
    )

    body = assert_error(response, 409)
    assert "already exists" in body["message"]
    stored = await mongo_db.users.find({"email": "dup.user@example.com"}).to_list()
    assert [(u["_id"], u["role"]) for u in stored] == [(first.id, "customer")]


async def test_too_short_password_is_refused_with_a_clear_message(client, mongo_db):
    body = signup_body(password="Ab1!short")

    response = await client.post("/api/auth/signup", json=body)

    errors = assert_error(response, 422)["data"]["errors"]
    assert errors[0]["field"] == "body.password" and "at least 10" in errors[0]["message"]
    assert await user_count(mongo_db, body["email"]) == 0


async def test_password_of_a_single_character_class_is_refused(client, mongo_db):
    body = signup_body(password="onlylowercaseletters")

    response = await client.post("/api/auth/signup", json=body)

    errors = assert_error(response, 422)["data"]["errors"]
    assert errors[0]["field"] == "body.password" and "mix" in errors[0]["message"]
    assert await user_count(mongo_db, body["email"]) == 0


async def test_business_gstin_format_is_checked(client, mongo_db):
    body = signup_body(business={"legalName": "Rao Mobiles", "gstin": "27ABCDE1234F1X5"})

    response = await client.post("/api/auth/signup", json=body)

    assert field_errors(response) == {"body.business.gstin"}
    assert await user_count(mongo_db, body["email"]) == 0


async def test_customer_applying_as_a_business_stays_b2c_until_verified(client):
    response = await client.post(
        "/api/auth/signup",
        json=signup_body(business={"legalName": "Rao Mobiles", "gstin": GSTIN.lower()}),
    )

    assert response.status_code == 201, response.text
    user = response.json()["data"]["user"]
    assert user["buyerType"] == "b2c"
    assert user["business"]["gstin"] == GSTIN
    assert user["business"]["verification"] == "pending"


async def test_business_on_a_non_customer_is_refused(client, mongo_db):
    body = signup_body(role="dealer", business={"legalName": "Rao Mobiles", "gstin": GSTIN})

    response = await client.post("/api/auth/signup", json=body)

    assert field_errors(response) == {"body.business"}
    assert await user_count(mongo_db, body["email"]) == 0


async def test_dealers_and_technicians_start_pending_and_customers_active(api: Api, client):
    statuses = {}
    for role in ("dealer", "technician", "customer"):
        response = await client.post("/api/auth/signup", json=signup_body(role=role))
        assert response.status_code == 201, response.text
        statuses[role] = response.json()["data"]["user"]["status"]

    assert statuses == {"dealer": "pending", "technician": "pending", "customer": "active"}


async def test_signup_is_audited_with_its_source(api: Api, client):
    response = await client.post(
        "/api/auth/signup", json=signup_body(),
        headers={"X-Request-ID": "signup-trace-0001", "User-Agent": "parts-app/1.0"},
    )
    user_id = response.json()["data"]["user"]["id"]

    [entry] = await api.audited(await api.root_admin(), "user.signed_up", user_id)

    assert (entry["actorId"], entry["actorRole"]) == (user_id, "customer")
    assert entry["changes"]["status"] == {"from": None, "to": "active"}
    assert entry["source"] == {
        "ip": "127.0.0.1", "userAgent": "parts-app/1.0", "traceId": "signup-trace-0001"
    }


async def test_concurrent_signups_with_one_email_create_one_account(client, mongo_db):
    bodies = [signup_body(email="Race.Me@Example.com", role=role)
              for role in ("customer", "dealer", "technician", "customer", "dealer")]

    responses = await asyncio.gather(*(client.post("/api/auth/signup", json=b) for b in bodies))

    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409]
    assert await user_count(mongo_db, "race.me@example.com") == 1
    assert await mongo_db.audit_entries.count_documents({"action": "user.signed_up"}) == 1
