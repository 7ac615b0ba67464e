"""Access and refresh tokens: rotation, reuse detection, logout, and refused tokens."""

import asyncio
from datetime import UTC, datetime, timedelta

import jwt

from app.core.config import DEFAULT_JWT_SECRET
from tests.helpers import Api, assert_error, eventually


async def refresh(client, token: str):
    return await client.post("/api/auth/refresh", json={"refreshToken": token})


async def test_refresh_rotates_into_a_new_working_pair(api: Api, client, mongo_db):
    account = await api.customer()

    response = await refresh(client, account.refresh_token)

    assert response.status_code == 200, response.text
    pair = response.json()["data"]
    assert pair["refreshToken"] != account.refresh_token
    assert pair["accessToken"] != account.token and pair["user"]["id"] == account.id
    me = await client.get(
        "/api/users/me", headers={"Authorization": f"Bearer {pair['accessToken']}"}
    )
    assert me.status_code == 200
    assert (await refresh(client, pair["refreshToken"])).status_code == 200
    tokens = await mongo_db.refresh_tokens.find({"user_id": account.id}).to_list()
    assert len({token["family_id"] for token in tokens}) == 1 and len(tokens) == 3
    assert all(account.refresh_token not in str(token) for token in tokens)


async def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(
    api: Api, client, mongo_db
):
    account = await api.customer()
    newer = (await refresh(client, account.refresh_token)).json()["data"]["refreshToken"]

    reuse = await refresh(client, account.refresh_token)

    assert "reuse" in assert_error(reuse, 401)["message"]
    assert_error(await refresh(client, newer), 401)
    live = await mongo_db.refresh_tokens.count_documents(
        {"user_id": account.id, "revoked_at": None}
    )
    assert live == 0
    [entry] = await api.audited(await api.root_admin(), "auth.refresh_reuse_detected", account.id)
    assert entry["actorId"] == "system"


async def test_reuse_detection_spares_the_users_other_sign_ins(api: Api, client):
    account = await api.customer()
    stale = account.refresh_token
    other_sign_in = (await api.login(account)).refresh_token
    await refresh(client, stale)

    await refresh(client, stale)

    assert (await refresh(client, other_sign_in)).status_code == 200


async def test_concurrent_use_of_one_refresh_token_yields_at_most_one_new_pair(
    api: Api, client, mongo_db
):
    account = await api.customer()

    responses = await asyncio.gather(*(refresh(client, account.refresh_token) for _ in range(5)))

    assert sum(r.status_code == 200 for r in responses) <= 1
    assert {r.status_code for r in responses} <= {200, 401}
    issued = await mongo_db.refresh_tokens.count_documents({"user_id": account.id})
    assert issued <= 2


async def test_logout_revokes_the_refresh_token(api: Api, client, mongo_db):
    account = await api.customer()

    response = await client.post("/api/auth/logout", json={"refreshToken": account.refresh_token})

    assert response.status_code == 200 and response.json()["success"] is True
    assert_error(await refresh(client, account.refresh_token), 401)
    assert await mongo_db.refresh_tokens.count_documents({"revoked_at": None,
                                                          "user_id": account.id}) == 0
    [entry] = await api.audited(await api.root_admin(), "auth.logged_out", account.id)
    assert entry["actorId"] == account.id


async def test_no_token_is_401(client):
    response = await client.get("/api/users/me")

    assert assert_error(response, 401)["message"] == "Authentication required"


async def test_garbage_token_is_401(client):
    response = await client.get("/api/users/me", headers={"Authorization": "Bearer garbage.x.y"})

    assert_error(response, 401)


async def test_expired_token_is_401(api: Api, client):
    account = await api.customer()
    now = datetime.now(UTC)
    token = jwt.encode(
        {"sub": account.id, "role": "customer", "scopes": [], "jti": "x",
         "iat": now - timedelta(hours=1), "exp": now - timedelta(minutes=1)},
        DEFAULT_JWT_SECRET, algorithm="HS256",
    )

    response = await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})

    assert_error(response, 401)


async def test_an_accepted_token_is_refused_once_it_expires(api: Api, client, mongo_db):
    # The server keeps tokens it has verified (no second signature check per request): one
    # it accepted must still be refused from its `exp` on.
    account = await api.customer()
    claims = jwt.decode(account.token, DEFAULT_JWT_SECRET, algorithms=["HS256"])
    short = jwt.encode(
        {**claims, "jti": "short-lived", "exp": datetime.now(UTC) + timedelta(seconds=2)},
        DEFAULT_JWT_SECRET, algorithm="HS256",
    )
    headers = {"Authorization": f"Bearer {short}"}
    assert (await client.get("/api/users/me", headers=headers)).status_code == 200

    refused = await eventually(
        lambda: client.get("/api/users/me", headers=headers),
        lambda response: response.status_code != 200, timeout=10,
    )

    assert assert_error(refused, 401)["message"] == "Invalid or expired access token"
    # The session itself is untouched: the account's own token still works.
    assert (await client.get("/api/users/me", headers=account.headers)).status_code == 200
    user = await mongo_db.users.find_one({"_id": account.id})
    assert claims["sid"] in user["session_ids"]


async def test_token_signed_with_another_key_or_no_algorithm_is_401(api: Api, client):
    account = await api.customer()
    claims = {"sub": account.id, "role": "admin", "scopes": ["superadmin"], "jti": "x",
              "iat": datetime.now(UTC), "exp": datetime.now(UTC) + timedelta(minutes=5)}
    forged = jwt.encode(claims, "another-secret-of-sufficient-length-123456", algorithm="HS256")
    unsigned = jwt.encode(claims, None, algorithm="none")

    for token in (forged, unsigned):
        response = await client.get(
            "/api/admin/users", headers={"Authorization": f"Bearer {token}"}
        )
        assert_error(response, 401)


async def test_access_token_carries_the_documented_claims(api: Api, mongo_db):
    account = await api.customer()

    claims = jwt.decode(account.token, DEFAULT_JWT_SECRET, algorithms=["HS256"])

    assert set(claims) == {"sub", "sid", "role", "scopes", "exp", "iat", "jti"}
    assert (claims["sub"], claims["role"], claims["scopes"]) == (account.id, "customer", [])
    assert claims["exp"] - claims["iat"] == 900
    # `sid` is the sign-in session: the refresh token's family, live on the account.
    [refresh_token] = await mongo_db.refresh_tokens.find({"user_id": account.id}).to_list()
    user = await mongo_db.users.find_one({"_id": account.id})
    assert claims["sid"] == refresh_token["family_id"] and user["session_ids"] == [claims["sid"]]
