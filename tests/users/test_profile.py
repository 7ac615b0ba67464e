"""Accounts edit their own name and phone (both optional at signup) on PATCH /api/users/me."""

from tests.helpers import assert_error, field_errors


async def test_account_sets_its_name_and_phone_and_each_change_is_audited(api, client):
    customer = await api.customer()
    updated = await client.patch("/api/users/me", json={"name": "Asha Rao", "phone": "9812345678"},
                                 headers=customer.headers)
    assert updated.status_code == 200, updated.text
    assert (updated.json()["data"]["name"], updated.json()["data"]["phone"]) == (
        "Asha Rao", "9812345678")
    cleared = await client.patch("/api/users/me", json={"phone": None}, headers=customer.headers)
    assert cleared.status_code == 200, cleared.text
    me = (await api.me(customer)).json()["data"]
    assert (me["name"], me["phone"]) == ("Asha Rao", None)

    admin = await api.admin("compliance")
    entries = await api.audited(admin, "user.profile_updated", customer.id, count=2)
    assert {entry["actorId"] for entry in entries} == {customer.id}
    assert sorted((entry["changes"] for entry in entries), key=len, reverse=True) == [
        {"name": {"from": "A customer", "to": "Asha Rao"},
         "phone": {"from": None, "to": "9812345678"}},
        {"phone": {"from": "9812345678", "to": None}},
    ]


async def test_profile_update_validation(api, client):
    customer = await api.customer()
    assert_error(await client.patch("/api/users/me", json={}, headers=customer.headers), 422)
    assert "body.phone" in field_errors(
        await client.patch("/api/users/me", json={"phone": "12"}, headers=customer.headers))
    assert "body.name" in field_errors(
        await client.patch("/api/users/me", json={"name": ""}, headers=customer.headers))
    assert_error(await client.patch("/api/users/me", json={"name": None},
                                    headers=customer.headers), 422)
    assert "body.email" in field_errors(
        await client.patch("/api/users/me", json={"email": "x@example.com"},
                           headers=customer.headers))
    assert_error(await client.patch("/api/users/me", json={"name": "Nobody"}), 401)
    assert (await api.me(customer)).json()["data"]["name"] == "A customer"
