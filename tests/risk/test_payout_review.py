"""Payouts to a freshly replaced bank account wait on review (their money reserved, the
payout runner skipping them) until an ops admin approves (sent) or rejects (money back)."""

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from app.payouts import service as payouts_service
from app.payouts import tasks as payout_tasks
from tests.admin.factories import pending, queued
from tests.helpers import Account, Api, assert_error
from tests.live import LiveServer
from tests.payouts.factories import (
    assert_ledger_valid,
    balance_of,
    pay_out,
    payee,
    read_payout,
    register_account,
    settled,
    verify_account,
)


@pytest.fixture
async def client(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    """Payouts are sent to the RazorpayX sandbox of a live server (as in tests/payouts)."""
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=60) as http:
        yield http


async def review(api: Api, who: Account, payout_id: str, **body: Any) -> httpx.Response:
    return await api.client.patch(f"/api/admin/payouts/{payout_id}/review", json=body,
                                  headers=who.headers)


async def test_a_payout_to_a_replaced_account_waits_for_ops_then_is_sent_or_returned(
    api: Api, mongo_db: AsyncDatabase
):
    finance = await api.admin("finance")
    dealer, profile, _ = await payee(api, finance, payable=100_000)
    recipient = profile["id"]
    # Replacing an account never paid to is a correction, not a change of where money goes.
    corrected = await register_account(api, dealer)
    assert corrected.status_code == 201, corrected.text
    await verify_account(api, finance, corrected.json()["data"]["id"])
    first = await pay_out(api, finance, recipient, 10_000)
    assert first.status_code == 201, first.text
    assert first.json()["data"]["riskFlags"] == []
    assert (await settled(api, finance, first.json()["data"]["id"]))["status"] == "paid"

    replaced = await register_account(api, dealer)
    assert replaced.status_code == 201, replaced.text
    account = await verify_account(api, finance, replaced.json()["data"]["id"])
    response = await pay_out(api, finance, recipient, 30_000)
    assert response.status_code == 201, response.text
    assert response.json()["message"] == (
        "Payout on review: an ops admin must approve it before it is sent")
    held = response.json()["data"]
    assert held["status"] == "on_review" and held["riskFlags"] == ["PAYOUT_ACCOUNT_CHANGED"]
    assert held["accountId"] == account["id"] and held["providerTransferId"] is None
    assert (await read_payout(api, dealer, held["id"]))["riskFlags"] == []
    assert (await balance_of(api, finance, recipient))["inTransit"] == 30_000
    entry = await mongo_db.audit_entries.find_one({"action": "risk.flagged",
                                                   "subject_id": held["id"]})
    assert entry is not None and entry["metadata"]["outcome"] == "on_review"
    assert entry["metadata"]["rules"]["PAYOUT_ACCOUNT_CHANGED"]["windowHours"] == 24

    # The payout runner (and resuming it by hand) never sends a held payout.
    await payout_tasks.resume_unsettled(timedelta(0))
    assert (await payouts_service.process_payout(held["id"])).status.value == "on_review"
    ops = await api.admin("ops")
    [item] = await queued(api, ops, "payout_review")
    assert item["subjectId"] == held["id"] and item["decideWith"] == {
        "method": "PATCH", "path": f"/api/admin/payouts/{held['id']}/review"}
    assert await pending(api, ops, "payout_review") == 1

    decision = {"action": "approve", "reason": "Dealer confirmed the new account by phone"}
    for outsider in (dealer, finance):
        assert_error(await review(api, outsider, held["id"], **decision), 403)
    assert_error(await review(api, ops, "pout_missing", **decision), 404)
    approved = await review(api, ops, held["id"], **decision)
    assert approved.status_code == 200, approved.text
    assert approved.json()["data"]["status"] in {"processing", "paid"}
    paid = await settled(api, finance, held["id"])
    assert paid["status"] == "paid" and paid["riskFlags"] == ["PAYOUT_ACCOUNT_CHANGED"]
    assert [(c["fromStatus"], c["toStatus"]) for c in paid["statusHistory"]][:2] == [
        (None, "on_review"), ("on_review", "scheduled")]
    approval = await mongo_db.audit_entries.find_one({"action": "payout.review_approved",
                                                      "subject_id": held["id"]})
    assert approval is not None and approval["actor_id"] == ops.id
    assert approval["reason"] == decision["reason"]
    twice = assert_error(await review(api, ops, held["id"], **decision), 409)
    assert twice["data"] == {"code": "NOT_ON_REVIEW", "status": "paid"}

    second = (await pay_out(api, finance, recipient, 20_000)).json()["data"]
    assert second["status"] == "on_review"
    assert (await balance_of(api, finance, recipient))["payable"] == 40_000
    rejected = await review(api, ops, second["id"], action="reject", reason="Not confirmed")
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["data"]["status"] == "rejected"
    summary = await balance_of(api, finance, recipient)
    assert (summary["payable"], summary["inTransit"], summary["paidOut"]) == (60_000, 0, 40_000)
    assert await mongo_db.audit_entries.count_documents(
        {"action": "payout.review_rejected", "subject_id": second["id"]}) == 1
    assert await pending(api, ops, "payout_review") == 0
    await assert_ledger_valid()
