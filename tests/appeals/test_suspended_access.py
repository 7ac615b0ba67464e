"""A suspended account signs in again and reaches only its profile, notifications and
appeals; a blocked one cannot sign in; suspending still ends the live sessions at once."""

import pytest
import socketio

from app.realtime.server import authenticate
from tests.appeals.factories import SUSPENSION_REASON, suspended_dealer
from tests.helpers import Api, assert_error


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_suspended_dealer_signs_in_again_and_reaches_only_its_own_account(
    api: Api, client, mongo_db
):
    ops = await api.admin("ops")
    dealer_account, dealer = await suspended_dealer(api, ops)

    # The suspension ended the sessions it found: the token of before is refused.
    stale = await client.get("/api/users/me", headers=bearer(dealer["stale_token"]))
    assert "session has ended" in assert_error(stale, 401)["message"]
    stored = await mongo_db.users.find_one({"_id": dealer_account.id})
    assert stored["status"] == "suspended" and len(stored["session_ids"]) == 1

    me = await api.me(dealer_account)
    assert me.status_code == 200, me.text
    assert me.json()["data"]["status"] == "suspended"
    profile = await client.get("/api/dealers/me", headers=dealer_account.headers)
    assert profile.status_code == 200 and profile.json()["data"]["status"] == "suspended"
    notifications = await client.get("/api/notifications", headers=dealer_account.headers)
    assert notifications.status_code == 200 and notifications.json()["data"]["nextCursor"] is None
    appeals = await client.get("/api/appeals", headers=dealer_account.headers)
    assert appeals.status_code == 200 and appeals.json()["data"]["items"] == []
    refreshed = await client.post("/api/auth/refresh",
                                  json={"refreshToken": dealer_account.refresh_token})
    assert refreshed.status_code == 200, refreshed.text
    dealer_account.token = refreshed.json()["data"]["accessToken"]

    refused = [
        await client.get("/api/orders", headers=dealer_account.headers),  # signed-in only
        await client.get("/api/users/me/sessions", headers=dealer_account.headers),
        await client.post("/api/products", json={}, headers=dealer_account.headers),  # a permission
        await client.get("/api/products", headers=dealer_account.headers),  # public, with a token
    ]
    for response in refused:
        body = assert_error(response, 403)
        assert body["data"] == {"code": "ACCOUNT_SUSPENDED"}, response.request.url
    assert (await client.get("/api/products")).status_code == 200  # anonymous callers still may
    # Admin routes answer as to any dealer: its role holds no such permission.
    admin_route = await client.get("/api/admin/appeals", headers=dealer_account.headers)
    assert "role does not allow" in assert_error(admin_route, 403)["message"]
    # Socket.IO stays closed to a suspended account (its notifications wait in the list).
    with pytest.raises(socketio.exceptions.ConnectionRefusedError):
        await authenticate({"token": dealer_account.token})
    entries = await api.audited(await api.root_admin(), "user.status_changed", dealer_account.id,
                                count=2)
    assert [e["reason"] for e in entries
            if e["changes"]["status"] == {"from": "active", "to": "suspended"}] == [SUSPENSION_REASON]


async def test_suspended_customer_reads_itself_but_cannot_appeal_and_blocked_cannot_sign_in(
    api: Api, client
):
    ops = await api.admin("ops")
    customer, blocked = await api.customer(), await api.customer()
    assert (await api.set_status(ops, customer.id, "suspended", "Chargeback review")).is_success
    assert (await api.set_status(ops, blocked.id, "blocked", "Stolen card ring")).is_success

    await api.login(customer)
    assert (await api.me(customer)).json()["data"]["status"] == "suspended"
    assert (await client.get("/api/notifications", headers=customer.headers)).status_code == 200
    appeal = await client.post("/api/appeals", json={"reason": "Mistake", "details": "Please"},
                               headers=customer.headers)
    assert "role does not allow" in assert_error(appeal, 403)["message"]
    order = await client.post("/api/orders", json={}, headers=customer.headers)
    assert assert_error(order, 403)["data"] == {"code": "ACCOUNT_SUSPENDED"}

    login = await client.post("/api/auth/login",
                              json={"email": blocked.email, "password": blocked.password})
    assert assert_error(login, 403)["message"] == "This account is blocked"
    assert_error(await api.me(blocked), 401)
