"""Access tokens belong to a sign-in session: ending the session (sign-out, refresh-token
reuse, suspension, an admin, a password change, the session bound) refuses its tokens on
their next request, without a query more per request. Sessions are listed and ended by
their owner, and by admins."""

import httpx
import pytest

from tests.helpers import PASSWORD, Account, Api, assert_error, field_errors

DEVICE = "ios-install-0001-abcdef"
OTHER_DEVICE = "android_install_0002"


async def sign_in(client: httpx.AsyncClient, account: Account, **headers: str) -> Account:
    response = await client.post(
        "/api/auth/login", json={"email": account.email, "password": account.password},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    return Account(account.id, account.email, account.password, account.role,
                   data["accessToken"], data["refreshToken"])


async def live_session_ids(mongo_db, user_id: str) -> list[str]:
    return (await mongo_db.users.find_one({"_id": user_id}))["session_ids"]


async def test_signing_out_refuses_that_sessions_access_token_and_no_other(
    api: Api, client, mongo_db
):
    account = await api.customer()
    other = await sign_in(client, account)

    out = await client.post("/api/auth/logout", json={"refreshToken": account.refresh_token})

    assert out.status_code == 200
    refused = assert_error(await api.me(account), 401)
    assert refused["message"] == "This session has ended; sign in again"
    assert (await api.me(other)).status_code == 200
    assert await live_session_ids(mongo_db, account.id) != []
    ended = await mongo_db.sign_in_sessions.count_documents(
        {"user_id": account.id, "ended_at": {"$ne": None}})
    assert ended == 1


async def test_refresh_token_reuse_ends_the_session_and_its_access_tokens(api: Api, client):
    account = await api.customer()
    rotated = await client.post("/api/auth/refresh", json={"refreshToken": account.refresh_token})
    newer_access = rotated.json()["data"]["accessToken"]

    await client.post("/api/auth/refresh", json={"refreshToken": account.refresh_token})

    for token in (account.token, newer_access):
        response = await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
        assert_error(response, 401)


async def test_suspension_ends_every_session_for_good(api: Api, client, mongo_db):
    account = await api.customer()
    second = await sign_in(client, account)
    admin = await api.root_admin()

    assert (await api.set_status(admin, account.id, "suspended", "Chargeback abuse")).status_code == 200
    assert (await api.set_status(admin, account.id, "active", "Appeal accepted")).status_code == 200

    # Reinstated, yet the tokens issued before the suspension stay refused.
    for holder in (account, second):
        assert_error(await api.me(holder), 401)
        refresh = await client.post("/api/auth/refresh", json={"refreshToken": holder.refresh_token})
        assert_error(refresh, 401)
    assert await live_session_ids(mongo_db, account.id) == []
    assert (await api.me(await sign_in(client, account))).status_code == 200


async def test_the_oldest_session_ends_past_the_bound(api: Api, client, mongo_db):
    account = await api.customer()  # session 1
    sessions = [await sign_in(client, account) for _ in range(20)]  # 2..21: 21 > 20

    assert_error(await api.me(account), 401)
    assert_error(
        await client.post("/api/auth/refresh", json={"refreshToken": account.refresh_token}), 401)
    assert (await api.me(sessions[0])).status_code == 200
    assert len(await live_session_ids(mongo_db, account.id)) == 20


async def test_my_sessions_lists_each_live_sign_in_with_its_device(api: Api, client, mongo_db):
    account = await api.signup()
    phone = await sign_in(client, account, **{"X-Device-Id": DEVICE, "User-Agent": "PartsApp/3.1 iOS"})
    laptop = await sign_in(client, account, **{"User-Agent": "Mozilla/5.0"})
    refreshed = await client.post(
        "/api/auth/refresh", json={"refreshToken": phone.refresh_token},
        headers={"User-Agent": "PartsApp/3.2 iOS"},
    )
    assert refreshed.status_code == 200

    response = await client.get("/api/users/me/sessions", headers=laptop.headers)

    assert response.status_code == 200, response.text
    page = response.json()["data"]
    assert page["nextCursor"] is None
    newest, oldest = page["items"]
    assert set(newest) == {"id", "deviceId", "ip", "userAgent", "createdAt", "lastUsedAt", "current"}
    assert (newest["current"], newest["deviceId"], newest["userAgent"]) == (True, None, "Mozilla/5.0")
    assert (oldest["current"], oldest["deviceId"], oldest["ip"]) == (False, DEVICE, "127.0.0.1")
    assert oldest["userAgent"] == "PartsApp/3.2 iOS"
    assert oldest["lastUsedAt"] > oldest["createdAt"]
    stored = await mongo_db.sign_in_sessions.find_one({"_id": oldest["id"]})
    assert stored["device_id"] == DEVICE and stored["user_id"] == account.id


async def test_ending_one_of_my_sessions_signs_that_device_out(api: Api, client, mongo_db):
    account = await api.customer()
    phone = await sign_in(client, account, **{"X-Device-Id": DEVICE})
    items = (await client.get("/api/users/me/sessions", headers=account.headers)).json()["data"]["items"]
    phone_session = next(item["id"] for item in items if item["deviceId"] == DEVICE)

    response = await client.delete(f"/api/users/me/sessions/{phone_session}", headers=account.headers)

    assert response.status_code == 200, response.text
    assert response.json() == {"success": True, "message": "Session ended", "data": None,
                               "traceId": response.headers["x-request-id"]}
    assert_error(await api.me(phone), 401)
    assert (await api.me(account)).status_code == 200
    assert phone_session not in await live_session_ids(mongo_db, account.id)
    [entry] = await api.audited(await api.root_admin(), "auth.session_ended", account.id)
    assert entry["metadata"] == {"sessionId": phone_session} and entry["actorId"] == account.id


async def test_someone_elses_session_is_not_found(api: Api, client, mongo_db):
    owner, stranger = await api.customer(), await api.customer()
    owner_session = (await live_session_ids(mongo_db, owner.id))[0]

    response = await client.delete(
        f"/api/users/me/sessions/{owner_session}", headers=stranger.headers)

    assert_error(response, 404)
    assert (await api.me(owner)).status_code == 200
    assert await live_session_ids(mongo_db, owner.id) == [owner_session]


async def test_an_admin_ends_a_users_session_with_a_reason(api: Api, client, mongo_db):
    account = await api.customer()
    session_id = (await live_session_ids(mongo_db, account.id))[0]
    manager = await api.admin("ops")
    finance = await api.admin("finance")
    path = f"/api/admin/users/{account.id}/sessions/{session_id}"

    denied = await client.delete(path, headers=finance.headers)
    unknown = await client.delete(f"/api/admin/users/{account.id}/sessions/ses_nope",
                                  headers=manager.headers)
    ended = await client.delete(path, params={"reason": "Stolen phone reported"},
                                headers=manager.headers)

    assert_error(denied, 403)
    assert_error(unknown, 404)
    assert ended.status_code == 200 and ended.json()["data"] is None
    assert_error(await api.me(account), 401)
    assert await live_session_ids(mongo_db, account.id) == []
    [entry] = await api.audited(await api.root_admin(), "user.session_ended_by_admin", account.id)
    assert (entry["actorId"], entry["reason"]) == (manager.id, "Stolen phone reported")
    assert_error(await client.delete(path, headers=manager.headers), 404)  # already ended


async def test_changing_the_password_ends_every_other_session(api: Api, client, mongo_db):
    account = await api.customer()
    others = [await sign_in(client, account) for _ in range(2)]
    new_password = "N3w-Password-After-Leak"

    response = await client.post(
        "/api/users/me/password",
        json={"currentPassword": PASSWORD, "newPassword": new_password}, headers=account.headers,
    )

    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"endedSessions": 2}
    assert (await api.me(account)).status_code == 200  # this session stays signed in
    refreshed = await client.post("/api/auth/refresh", json={"refreshToken": account.refresh_token})
    assert refreshed.status_code == 200
    for other in others:
        assert_error(await api.me(other), 401)
        assert_error(await client.post(
            "/api/auth/refresh", json={"refreshToken": other.refresh_token}), 401)
    old = await client.post("/api/auth/login", json={"email": account.email, "password": PASSWORD})
    assert_error(old, 401)
    account.password = new_password
    await sign_in(client, account)
    [entry] = await api.audited(await api.root_admin(), "user.password_changed", account.id)
    assert entry["metadata"] == {"endedSessions": 2}


@pytest.mark.parametrize(
    ("body", "field"),
    [({"currentPassword": "Wrong-Password-1", "newPassword": "N3w-Password-After-Leak"},
      "body.currentPassword"),
     ({"currentPassword": PASSWORD, "newPassword": "weak"}, "body.newPassword")],
    ids=["wrong-current", "weak-new"],
)
async def test_a_refused_password_change_changes_nothing(api: Api, client, mongo_db, body, field):
    account = await api.customer()
    other = await sign_in(client, account)
    before = await mongo_db.users.find_one({"_id": account.id})

    response = await client.post("/api/users/me/password", json=body, headers=account.headers)

    assert field_errors(response) == {field}
    assert await mongo_db.users.find_one({"_id": account.id}) == before
    assert (await api.me(other)).status_code == 200


async def test_a_token_of_an_unknown_session_is_refused(api: Api, client, mongo_db):
    account = await api.customer()
    await mongo_db.users.update_one({"_id": account.id}, {"$set": {"session_ids": []}})

    assert_error(await api.me(account), 401)
