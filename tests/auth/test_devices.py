"""Apps name their install with X-Device-Id: a malformed one is a 400, a sign-in records it
on the session, a sign-in from a device the account never used is audited and notified, and
rate limits count per device as well as per account and per IP."""

import pytest

from tests.helpers import Api, assert_error
from tests.users.test_sessions import sign_in

DEVICE = "ios-install-0001-abcdef"
SECOND_DEVICE = "android_install_0002"


@pytest.mark.parametrize(
    "device", ["short-id", "x" * 65, "has space in it 123", "dots.are.not.allowed.x", "ünïcode-device-id"],
    ids=["too-short", "too-long", "space", "dot", "non-ascii"],
)
async def test_a_malformed_device_id_is_a_400_on_sign_in_and_elsewhere(
    api: Api, client, mongo_db, device: str
):
    account = await api.customer()
    headers: dict[str, str | bytes] = {"X-Device-Id": device.encode("utf-8")}

    login = await client.post(
        "/api/auth/login", json={"email": account.email, "password": account.password},
        headers=headers,
    )
    me = await client.get("/api/users/me", headers={**account.headers, **headers})

    assert "X-Device-Id" in assert_error(login, 400)["message"]
    assert_error(me, 400)
    assert await mongo_db.sign_in_sessions.count_documents({"user_id": account.id}) == 1


async def test_a_sign_in_from_a_new_device_is_audited_and_notified_once(api: Api, client, mongo_db):
    account = await api.customer()  # no X-Device-Id: not a "new device"

    first = await sign_in(client, account, **{"X-Device-Id": DEVICE})
    await sign_in(client, account, **{"X-Device-Id": DEVICE})
    await sign_in(client, account, **{"X-Device-Id": SECOND_DEVICE})

    admin = await api.root_admin()
    entries = await api.audited(admin, "auth.new_device_signin", account.id, count=2)
    assert sorted(e["metadata"]["deviceId"] for e in entries) == sorted([DEVICE, SECOND_DEVICE])
    response = await client.get("/api/notifications", headers=first.headers)
    assert response.status_code == 200
    notices = [n for n in response.json()["data"]["items"] if n["kind"] == "new_device_signin"]
    assert len(notices) == 2 and all(n["subjectType"] == "session" for n in notices)
    user = await mongo_db.users.find_one({"_id": account.id})
    assert user["device_ids"] == [DEVICE, SECOND_DEVICE]


@pytest.mark.settings(rate_limits={"enabled": True, "public": 50, "customer": 3})
async def test_rate_limits_count_per_device_across_accounts(api: Api):
    first, second, third = await api.customer(), await api.customer(), await api.customer()
    on_device = {"X-Device-Id": DEVICE}

    first_calls = [(await api.client.get("/api/users/me", headers={**first.headers, **on_device})
                    ).status_code for _ in range(3)]
    second_on_device = await api.client.get("/api/users/me", headers={**second.headers, **on_device})
    third_elsewhere = await api.client.get("/api/users/me", headers=third.headers)

    assert first_calls == [200, 200, 200]
    body = assert_error(second_on_device, 429)  # the device's budget is spent
    assert int(second_on_device.headers["Retry-After"]) == body["data"]["retryAfter"] >= 1
    assert third_elsewhere.status_code == 200
