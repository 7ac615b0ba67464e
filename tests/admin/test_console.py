"""The governance console: the approval queue, the override log and the admin dashboard."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from app.core import clock
from app.core.config import settings
from tests.catalog.factories import B2B_GSTIN
from tests.commands import CommandCounter
from tests.dealers.factories import approved_dealer, submitted_dealer
from tests.disputes.factories import Disputes
from tests.helpers import Account, Api, assert_error
from tests.payments.factories import Payments
from tests.payouts.factories import register_account
from tests.repairs.factories import book_hardware, book_software
from tests.technicians.factories import submitted_technician

APPROVALS, OVERRIDES, DASHBOARD = "/api/admin/approvals", "/api/admin/overrides", \
    "/api/admin/dashboard"
AUTH = ["find users"]


async def _get(api: Api, admin: Account, path: str, **params: Any) -> dict[str, Any]:
    response = await api.client.get(path, params=params, headers=admin.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["traceId"] == response.headers["x-request-id"]
    return body["data"]


async def _all_pages(api: Api, admin: Account, path: str, limit: int,
                     **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await _get(api, admin, path, limit=limit, **({"cursor": cursor} if cursor else {}),
                          **params)
        assert len(page["items"]) <= limit
        items += page["items"]
        if (cursor := page["nextCursor"]) is None:
            return items


def _b2b_applicant(api: Api) -> Any:
    return api.customer(business={"legalName": "Fixit Repairs LLP", "gstin": B2B_GSTIN})


async def test_one_queue_of_every_pending_decision_oldest_first_and_paged(
    api: Api, mongo_db: AsyncDatabase
):
    minute = timedelta(minutes=1)
    _, dealer = await submitted_dealer(api)
    clock.advance(minute)
    _, technician = await submitted_technician(api)
    clock.advance(minute)
    buyer = await _b2b_applicant(api)
    clock.advance(minute)
    payee, _ = await approved_dealer(api)
    account = (await register_account(api, payee)).json()["data"]
    clock.advance(minute)
    _, late_dealer = await submitted_dealer(api)
    await api.customer()  # a plain customer awaits nothing

    compliance = await api.admin("compliance")
    queue = (await _get(api, compliance, APPROVALS))["items"]

    assert [(item["kind"], item["subjectId"], item["decideWith"]) for item in queue] == [
        ("dealer", dealer["id"],
         {"method": "PATCH", "path": f"/api/dealers/{dealer['id']}/status"}),
        ("technician", technician["id"],
         {"method": "PATCH", "path": f"/api/technicians/{technician['id']}/status"}),
        ("b2b_buyer", buyer.id,
         {"method": "PATCH", "path": f"/api/users/{buyer.id}/business-verification"}),
        ("payout_account", account["id"],
         {"method": "PATCH", "path": f"/api/payouts/accounts/{account['id']}/verification"}),
        ("dealer", late_dealer["id"],
         {"method": "PATCH", "path": f"/api/dealers/{late_dealer['id']}/status"}),
    ]
    since = [datetime.fromisoformat(item["since"]) for item in queue]
    assert since == sorted(since) and len(set(since)) == 5
    assert await _all_pages(api, compliance, APPROVALS, limit=2) == queue

    # Ties in time are ordered by kind, then id: a page boundary inside a tie loses nothing.
    tie = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    for collection, subject in (("dealers", dealer["id"]), ("dealers", late_dealer["id"]),
                                ("technicians", technician["id"]), ("users", buyer.id)):
        await mongo_db[collection].update_one({"_id": subject}, {"$set": {"created_at": tie}})
    tied = await _all_pages(api, compliance, APPROVALS, limit=1)
    assert [(item["kind"], item["subjectId"]) for item in tied] == [
        ("b2b_buyer", buyer.id), *sorted([("dealer", dealer["id"]), ("dealer", late_dealer["id"])]),
        ("technician", technician["id"]), ("payout_account", account["id"]),
    ]

    # Deciding with the route the item names takes it off the queue.
    decide = queue[0]["decideWith"]
    decided = await api.client.request(decide["method"], decide["path"],
                                       json={"action": "approve"}, headers=compliance.headers)
    assert decided.status_code == 200, decided.text
    left = (await _get(api, await api.admin("finance"), APPROVALS))["items"]
    assert dealer["id"] not in {item["subjectId"] for item in left} and len(left) == 4

    assert_error(await api.client.get(APPROVALS, headers=buyer.headers), 403)
    assert_error(await api.client.get(APPROVALS, params={"cursor": "bm90LWEtY3Vyc29y"},
                                      headers=compliance.headers), 400)


async def test_override_log_lists_every_override_newest_first_for_compliance_and_ops_lead(
    api: Api, mongo_db: AsyncDatabase
):
    ops, lead = await api.admin("ops"), await api.admin("ops_lead")
    assert "ops_lead" in (await api.me(lead)).json()["data"]["scopes"]
    customer = await api.customer()
    await api.set_status(ops, customer.id, "blocked", "Chargeback ring")
    lifted = await api.set_status(lead, customer.id, "active", "Bank cleared the chargebacks",
                                  override=True)
    assert lifted.status_code == 200, lifted.text
    seller, dealer = await approved_dealer(api)
    blocked = await api.client.patch(f"/api/dealers/{dealer['id']}/status",
                                     json={"action": "block", "reason": "Fake GST"},
                                     headers=ops.headers)
    assert blocked.status_code == 200, blocked.text
    clock.advance(timedelta(minutes=1))
    reinstated = await api.client.patch(
        f"/api/dealers/{dealer['id']}/status",
        json={"action": "reinstate", "reason": "GST verified after all", "override": True},
        headers=lead.headers)
    assert reinstated.status_code == 200, reinstated.text

    compliance = await api.admin("compliance")
    log = (await _get(api, compliance, OVERRIDES))["items"]

    # The dealer's reinstatement lifts its account's block too: both are overrides.
    assert sorted((e["action"], e["subjectId"]) for e in log[:2]) == [
        ("dealer.reinstate", dealer["id"]), ("user.status_changed", seller.id)]
    assert {(e["reason"], e["actorId"]) for e in log[:2]} == {("GST verified after all", lead.id)}
    assert (log[2]["action"], log[2]["subjectType"], log[2]["subjectId"], log[2]["reason"],
            log[2]["actorId"]) == ("user.status_changed", "user", customer.id,
                                   "Bank cleared the chargebacks", lead.id)
    assert len(log) == 3 and set(log[0]) == {"id", "action", "subjectType", "subjectId",
                                             "reason", "actorId", "at"}
    stored = await mongo_db.audit_entries.count_documents({"override": True})
    assert stored == 3
    assert await _all_pages(api, lead, OVERRIDES, limit=1) == log
    before_reinstating = await _get(api, lead, OVERRIDES, to=log[1]["at"])
    assert [e["id"] for e in before_reinstating["items"]] == [log[2]["id"]]
    since_reinstating = await _get(api, compliance, OVERRIDES, **{"from": log[1]["at"]})
    assert [e["id"] for e in since_reinstating["items"]] == [log[0]["id"], log[1]["id"]]

    for refused in (ops, await api.admin("finance"), await api.customer()):
        assert_error(await api.client.get(OVERRIDES, headers=refused.headers), 403)


@pytest.mark.settings(background_tasks_enabled=False)
async def test_dashboard_counts_every_figure_with_one_indexed_command_each(
    commands: CommandCounter, pay: Payments
):
    api = pay.api
    budget = AUTH + [f"aggregate {name}" for name in (
        "dealers", "technicians", "users", "payout_accounts", "orders", "payouts", "appeals",
        "disputes", "payments", "payments", "alerts", "repairs", "audit_entries")]
    empty = await api.client.get(DASHBOARD, headers=(await api.admin("compliance")).headers)
    assert empty.json()["data"] == {
        "pendingApprovals": {"dealer": 0, "technician": 0, "b2b_buyer": 0, "payout_account": 0,
                             "order_review": 0, "payout_review": 0, "appeal": 0},
        "openDisputes": 0, "escrowHeld": {"count": 0, "amount": 0}, "paymentsStuck": 0,
        "openAlerts": 0, "repairsUnassigned": 0, "overridesLast30Days": 0}
    commands.assert_commands(empty, exactly=budget)

    held = await pay.paid()
    disputed = await pay.paid(b2c=80_000)
    await Disputes(pay).opened(disputed)
    await register_account(api, held.shop.account)
    await submitted_dealer(api)
    await submitted_technician(api)
    await _b2b_applicant(api)
    customer = await api.customer()
    await book_software(api, customer)
    await book_hardware(api, customer, 28.61, 77.21)  # nobody near: unassigned, admins alerted
    ops, lead = await api.admin("ops"), await api.admin("ops_lead")
    await api.set_status(ops, customer.id, "blocked", "Card testing")
    await api.set_status(lead, customer.id, "active", "False positive", override=True)
    _, buyer, order = await pay.order()
    assert (await pay.start(buyer, order["id"])).status_code == 201
    clock.advance(timedelta(minutes=settings().escrow.payment_stuck_after_minutes + 1))

    response = await api.client.get(DASHBOARD, headers=(await api.admin("finance")).headers)

    assert response.status_code == 200, response.text
    assert response.json()["data"] == {
        "pendingApprovals": {"dealer": 1, "technician": 1, "b2b_buyer": 1, "payout_account": 1,
                             "order_review": 0, "payout_review": 0, "appeal": 0},
        "openDisputes": 1,
        "escrowHeld": {"count": 2,
                       "amount": held.payment["amount"] + disputed.payment["amount"]},
        "paymentsStuck": 1, "openAlerts": 1, "repairsUnassigned": 2, "overridesLast30Days": 1}
    commands.assert_commands(response, exactly=budget)
    assert_error(await api.client.get(DASHBOARD, headers=(await api.customer()).headers), 403)
