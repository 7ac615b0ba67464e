"""The sandbox's RazorpayX: contacts, fund accounts and payouts as RazorpayX answers them,
one payout per X-Payout-Idempotency key, and the bank's answer with its signed webhook."""

import hashlib
import hmac
import json
from typing import Any

import httpx

from app.core.config import DEFAULT_RAZORPAYX_ACCOUNT_NUMBER
from tests.live import WebhookReceiver
from tests.sandbox.factories import WEBHOOK_SECRET, error, sandbox_client


async def _fund_account(sandbox: httpx.AsyncClient, number: str = "123456781234") -> dict[str, Any]:
    contact = await sandbox.post("/v1/contacts", json={"name": "Spare Hub Traders",
                                                       "type": "vendor", "reference_id": "pac_1"})
    assert contact.status_code == 201, contact.text
    fund_account = await sandbox.post("/v1/fund_accounts", json={
        "contact_id": contact.json()["id"], "account_type": "bank_account",
        "bank_account": {"name": "Spare Hub Traders", "ifsc": "HDFC0001234",
                         "account_number": number},
    })
    assert fund_account.status_code == 201, fund_account.text
    return fund_account.json()


def _payout_body(fund_account_id: str, amount: int = 5_000, **extra: Any) -> dict[str, Any]:
    return {"account_number": DEFAULT_RAZORPAYX_ACCOUNT_NUMBER, "fund_account_id": fund_account_id,
            "amount": amount, "currency": "INR", "mode": "IMPS", "purpose": "payout",
            "queue_if_low_balance": True, "reference_id": "pout_1", "notes": {"attempt": "1"},
            **extra}


async def test_identical_contacts_and_fund_accounts_answer_the_existing_one(
    sandbox: httpx.AsyncClient,
) -> None:
    first = await _fund_account(sandbox)
    contact = await sandbox.post("/v1/contacts", json={"name": "Spare Hub Traders",
                                                       "type": "vendor", "reference_id": "pac_1"})
    again = await sandbox.post("/v1/fund_accounts", json={
        "contact_id": first["contact_id"], "account_type": "bank_account",
        "bank_account": {"name": "Spare Hub Traders", "ifsc": "HDFC0001234",
                         "account_number": "123456781234"},
    })

    assert (contact.status_code, contact.json()["id"]) == (200, first["contact_id"])
    assert (again.status_code, again.json()["id"]) == (200, first["id"])
    assert first["bank_account"]["ifsc"] == "HDFC0001234" and first["active"] is True
    assert len(sandbox.app.state.store.fund_accounts) == 1  # type: ignore[attr-defined]
    bad = await sandbox.post("/v1/fund_accounts", json={
        "contact_id": first["contact_id"], "account_type": "bank_account",
        "bank_account": {"name": "X", "ifsc": "HDFC1001234", "account_number": "123456781234"},
    })
    assert bad.status_code == 400 and error(bad)["field"] == "ifsc"
    unknown = await sandbox.post("/v1/fund_accounts", json={
        "contact_id": "cont_missing", "account_type": "bank_account",
        "bank_account": {"name": "X", "ifsc": "HDFC0001234", "account_number": "123456781234"},
    })
    assert unknown.status_code == 400
    assert error(unknown)["description"] == "The id provided does not exist"


async def test_one_payout_per_idempotency_key_and_the_same_body_only(
    sandbox: httpx.AsyncClient,
) -> None:
    sandbox.app.state.payouts.auto_process_payouts = False  # type: ignore[attr-defined]
    fund_account = await _fund_account(sandbox)
    body = _payout_body(fund_account["id"])
    key = {"X-Payout-Idempotency": "pout_1-1"}

    first = await sandbox.post("/v1/payouts", json=body, headers=key)
    again = await sandbox.post("/v1/payouts", json=body, headers=key)
    other = await sandbox.post("/v1/payouts", json={**body, "amount": 6_000}, headers=key)
    keyless = await sandbox.post("/v1/payouts", json=body)
    bad_key = await sandbox.post("/v1/payouts", json=body, headers={"X-Payout-Idempotency": "a:b"})
    not_ours = await sandbox.post("/v1/payouts", json={**body, "account_number": "1111111111"},
                                  headers={"X-Payout-Idempotency": "pout_2-1"})

    assert first.status_code == again.status_code == 200
    payout = first.json()
    assert again.json() == payout
    assert (payout["entity"], payout["status"], payout["amount"]) == ("payout", "processing", 5_000)
    assert (payout["reference_id"], payout["notes"]) == ("pout_1", {"attempt": "1"})
    assert "_account_number" not in payout
    assert error(other)["field"] == error(keyless)["field"] == "X-Payout-Idempotency"
    assert "Different request body" in error(other)["description"]
    assert "missing" in error(keyless)["description"]
    assert bad_key.status_code == 400 and error(bad_key)["field"] == "X-Payout-Idempotency"
    assert not_ours.status_code == 400 and error(not_ours)["field"] == "account_number"
    assert list(sandbox.app.state.store.payouts) == [payout["id"]]  # type: ignore[attr-defined]
    fetched = await sandbox.get(f"/v1/payouts/{payout['id']}")
    assert fetched.json() == payout


async def test_settling_a_payout_records_its_signed_event_once(sandbox: httpx.AsyncClient) -> None:
    sandbox.app.state.payouts.auto_process_payouts = False  # type: ignore[attr-defined]
    fund_account = await _fund_account(sandbox)
    payout = (await sandbox.post("/v1/payouts", json=_payout_body(fund_account["id"]),
                                 headers={"X-Payout-Idempotency": "pout_1-1"})).json()

    settled = await sandbox.post(f"/payouts/{payout['id']}/settle", json={"outcome": "processed"})
    twice = await sandbox.post(f"/payouts/{payout['id']}/settle", json={"outcome": "reversed"})

    assert settled.status_code == 200 and settled.json()["status"] == "processed"
    assert settled.json()["utr"]
    assert twice.status_code == 400
    assert error(twice)["description"] == "The payout is already processed"
    assert (await sandbox.get(f"/v1/payouts/{payout['id']}")).json()["status"] == "processed"
    [event] = (await sandbox.get("/webhooks")).json()
    assert event["event"] == "payout.processed"
    assert event["body"]["payload"]["payout"]["entity"]["id"] == payout["id"]


async def test_automatic_processing_reverses_payouts_to_rejecting_test_accounts(
    webhook_receiver: WebhookReceiver,
) -> None:
    async with sandbox_client(webhook_receiver.url, deliver=True) as sandbox:
        rejecting = await _fund_account(sandbox, "123456780000")
        payout = (await sandbox.post("/v1/payouts", json=_payout_body(rejecting["id"]),
                                     headers={"X-Payout-Idempotency": "pout_1-1"})).json()
        assert payout["status"] == "processing"  # the answer; the bank's comes after it

        [delivered] = await webhook_receiver.wait_for(1)
        body = json.loads(delivered.body)
        expected = hmac.new(WEBHOOK_SECRET.encode(), delivered.body, hashlib.sha256).hexdigest()
        assert delivered.signature == expected
        assert body["event"] == "payout.reversed"
        entity = body["payload"]["payout"]["entity"]
        assert (entity["id"], entity["status"]) == (payout["id"], "reversed")
        assert entity["status_details"]["reason"] == "beneficiary_bank_rejected"
        assert "123456780000" not in delivered.body.decode()
        fetched = (await sandbox.get(f"/v1/payouts/{payout['id']}")).json()
        assert fetched["status"] == "reversed"
