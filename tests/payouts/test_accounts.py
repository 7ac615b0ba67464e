"""Payout accounts: registration, masking, replacement and verification."""

import pytest

from tests.dealers.factories import approved_dealer, submitted_dealer
from tests.helpers import assert_error, field_errors
from tests.payouts.factories import account_number, register_account, verify_account


async def test_registration_masks_the_number_in_every_response(api):
    finance = await api.admin("finance")
    dealer, profile = await approved_dealer(api)
    number = "123456789012"

    response = await register_account(api, dealer, number, ifsc="hdfc0001234")

    assert response.status_code == 201, response.text
    account = response.json()["data"]
    assert account["status"] == "pending_verification"
    assert account["recipientId"] == profile["id"]
    assert account["accountNumberMasked"] == "XXXXXX9012"
    assert account["ifsc"] == "HDFC0001234"
    assert "accountNumber" not in account
    assert number not in response.text
    for viewer, params in ((dealer, {}), (finance, {"recipientId": profile["id"]})):
        listed = await api.client.get("/api/payouts/accounts", params=params,
                                      headers=viewer.headers)
        assert listed.status_code == 200, listed.text
        assert [item["id"] for item in listed.json()["data"]["items"]] == [account["id"]]
        assert number not in listed.text
    verified = await api.client.patch(
        f"/api/payouts/accounts/{account['id']}/verification", json={"action": "verify"},
        headers=finance.headers,
    )
    assert number not in verified.text
    root = await api.root_admin()
    entries = await api.audited(root, "payout.account_registered", account["id"])
    assert entries[0]["metadata"]["accountNumberMasked"] == "XXXXXX9012"
    assert number not in str(entries)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"accountNumber": "12345678"}, "body.accountNumber"),  # 8 digits
        ({"accountNumber": "1234567890123456789"}, "body.accountNumber"),  # 19 digits
        ({"accountNumber": "12345678901A"}, "body.accountNumber"),
        ({"accountNumber": 123456789012}, "body.accountNumber"),
        ({"ifsc": "HDFC1001234"}, "body.ifsc"),  # 5th character must be 0
        ({"ifsc": "HDF00001234"}, "body.ifsc"),
        ({"ifsc": "HDFC000123"}, "body.ifsc"),
        ({"holderName": ""}, "body.holderName"),
        ({"bankName": "HDFC"}, "body.bankName"),  # unknown fields are refused
    ],
)
async def test_invalid_account_details_are_refused(api, overrides, field):
    dealer, _ = await approved_dealer(api)
    body = {"holderName": "Spare Hub", "accountNumber": "123456789012", "ifsc": "HDFC0001234",
            **overrides}
    response = await api.client.post("/api/payouts/accounts", json=body, headers=dealer.headers)
    assert field in field_errors(response)
    assert "123456789012" not in response.text


async def test_only_approved_dealers_register_accounts(api):
    pending_dealer, _ = await submitted_dealer(api)
    customer = await api.customer()
    finance = await api.admin("finance")
    for who in (pending_dealer, customer, finance):
        assert_error(await register_account(api, who), 403)


async def test_a_new_registration_supersedes_the_old_account(api):
    finance = await api.admin("finance")
    dealer, profile = await approved_dealer(api)
    first = (await register_account(api, dealer)).json()["data"]
    await verify_account(api, finance, first["id"])

    second = (await register_account(api, dealer, account_number())).json()["data"]

    listed = await api.client.get("/api/payouts/accounts", headers=dealer.headers)
    by_id = {item["id"]: item for item in listed.json()["data"]["items"]}
    assert by_id[first["id"]]["status"] == "superseded"
    assert by_id[first["id"]]["active"] is False
    assert by_id[first["id"]]["supersededBy"] == second["id"]
    assert by_id[second["id"]]["status"] == "pending_verification"
    assert by_id[second["id"]]["active"] is True
    # The superseded account can no longer be verified or used.
    response = await api.client.patch(
        f"/api/payouts/accounts/{first['id']}/verification", json={"action": "reject",
                                                                  "reason": "old account"},
        headers=finance.headers,
    )
    assert_error(response, 409)
    root = await api.root_admin()
    await api.audited(root, "payout.account_superseded", first["id"])


async def test_verification_is_finance_only_and_rejection_needs_a_reason(api):
    finance = await api.admin("finance")
    ops = await api.admin("ops")
    dealer, _ = await approved_dealer(api)
    account = (await register_account(api, dealer)).json()["data"]
    url = f"/api/payouts/accounts/{account['id']}/verification"

    assert_error(await api.client.patch(url, json={"action": "verify"}, headers=dealer.headers), 403)
    assert_error(await api.client.patch(url, json={"action": "verify"}, headers=ops.headers), 403)
    assert "body.reason" in field_errors(
        await api.client.patch(url, json={"action": "reject"}, headers=finance.headers)
    )
    rejected = await api.client.patch(
        url, json={"action": "reject", "reason": "name does not match"}, headers=finance.headers
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["data"]["status"] == "rejected"
    # Rejected is final for this registration: the dealer registers a new account instead.
    assert_error(await api.client.patch(url, json={"action": "verify"}, headers=finance.headers), 409)
    missing = "/api/payouts/accounts/pac_000000000000000000000000/verification"
    assert_error(await api.client.patch(missing, json={"action": "verify"},
                                        headers=finance.headers), 404)
    root = await api.root_admin()
    entries = await api.audited(root, "payout.account_rejected", account["id"])
    assert entries[0]["reason"] == "name does not match"


async def test_dealers_see_only_their_own_accounts(api):
    finance = await api.admin("finance")
    dealer_a, profile_a = await approved_dealer(api)
    dealer_b, profile_b = await approved_dealer(api)
    account_a = (await register_account(api, dealer_a)).json()["data"]
    account_b = (await register_account(api, dealer_b)).json()["data"]

    mine = await api.client.get("/api/payouts/accounts", headers=dealer_a.headers)
    assert [item["id"] for item in mine.json()["data"]["items"]] == [account_a["id"]]
    snooping = await api.client.get("/api/payouts/accounts", params={"recipientId": profile_b["id"]},
                                    headers=dealer_a.headers)
    assert snooping.json()["data"]["items"] == []
    everyone = await api.client.get("/api/payouts/accounts", params={"status": "pending_verification"},
                                    headers=finance.headers)
    assert {account_a["id"], account_b["id"]} <= {i["id"] for i in everyone.json()["data"]["items"]}
    customer = await api.customer()
    assert_error(await api.client.get("/api/payouts/accounts", headers=customer.headers), 403)
