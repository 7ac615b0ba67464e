"""The paid repair: quote → accept → pay through the sandbox → verify → complete → release
(a finance admin, or the auto-release job after the dispute window) → the technician's
payout account → payout → balance, with the ledger verifying after each step."""

from datetime import timedelta

import pytest

from app.core import clock
from app.core.config import settings
from app.payments import tasks
from app.payments.ledger import accounts
from app.repairs.models import RepairStatus
from tests.helpers import assert_error
from tests.payments.factories import Payments, balance, escrow_of
from tests.payouts.factories import (
    account_number,
    balance_of,
    pay_out,
    register_account,
    settled,
    verify_account,
)
from tests.repairs_money.factories import (
    Job,
    complete,
    job,
    paid,
    quoted_and_accepted,
    start_payment,
    stored,
)
from tests.technicians.factories import approved_technician

TOTAL = 150_000  # the factory's labour line
TECHNICIAN_RATE_BPS = 1_000  # the default technician tier
COMMISSION = TOTAL * TECHNICIAN_RATE_BPS // 10_000


async def balance_of_response(pay: Payments, who, recipient_id: str):
    return await pay.client.get("/api/payouts/balance", params={"recipientId": recipient_id},
                                headers=who.headers)


async def _paid_job(pay: Payments) -> tuple[Job, dict]:
    work = await job(pay.api, RepairStatus.IN_PROGRESS)
    await quoted_and_accepted(pay.api, work)
    await pay.ledger_is_valid()
    payment = await paid(pay, work)
    await pay.ledger_is_valid()
    return work, payment


async def _technician_paid_out(pay: Payments, work: Job) -> None:
    finance = await pay.finance()
    registered = await register_account(pay.api, work.technician, account_number(),
                                        holderName="Ravi Kumar")
    assert registered.status_code == 201, registered.text
    account = registered.json()["data"]
    assert account["recipientId"] == work.technician_id
    assert account["recipientType"] == "technician"
    await verify_account(pay.api, finance, account["id"])

    sent = await pay_out(pay.api, finance, work.technician_id)

    assert sent.status_code == 201, sent.text
    payout = await settled(pay.api, finance, sent.json()["data"]["id"])
    assert payout["status"] == "paid" and payout["amount"] == TOTAL - COMMISSION
    assert payout["recipientId"] == work.technician_id
    own = await balance_of(pay.api, work.technician, work.technician_id)
    assert own["recipientId"] == work.technician_id
    assert own["payable"] == 0 and own["paidOut"] == TOTAL - COMMISSION
    assert own["inTransit"] == 0 and own["pendingEscrow"] == 0
    assert (await balance_of(pay.api, finance, work.technician_id))["paidOut"] == TOTAL - COMMISSION
    listed = await pay.client.get("/api/payouts", headers=work.technician.headers)
    assert [p["id"] for p in listed.json()["data"]["items"]] == [payout["id"]]
    await pay.ledger_is_valid()


async def test_the_paid_repair_is_released_by_finance_and_paid_out(pay: Payments):
    work, payment = await _paid_job(pay)

    assert payment["payableType"] == "repair" and payment["repairId"] == work.id
    assert payment["orderId"] is None
    assert payment["payerId"] == work.customer.id and payment["payeeId"] == work.technician_id
    assert payment["amount"] == TOTAL and payment["escrowStatus"] == "held"
    assert payment["commissionBreakdown"]["rateBps"] == TECHNICIAN_RATE_BPS
    assert (await stored(work.id)).payment_id == payment["id"]
    assert await escrow_of(payment["id"]) == TOTAL
    # The technician sees the payment it is paid by; another customer does not.
    seen = await pay.client.get(f"/api/payments/{payment['id']}", headers=work.technician.headers)
    assert seen.status_code == 200 and seen.json()["data"]["id"] == payment["id"]
    stranger = await pay.api.customer()
    stranger_technician, _ = await approved_technician(pay.api)
    for outsider, balance_status in ((stranger, 403), (stranger_technician, 404)):
        assert_error(await pay.client.get(f"/api/payments/{payment['id']}",
                                          headers=outsider.headers), 404)
        theirs = await pay.client.get("/api/payments", headers=outsider.headers)
        assert theirs.json()["data"]["items"] == []
        assert_error(await balance_of_response(pay, outsider, work.technician_id),
                     balance_status)
    pending = await balance_of(pay.api, work.technician, work.technician_id)
    assert pending["pendingEscrow"] == TOTAL and pending["payable"] == 0

    early = await pay.release(payment["id"])  # not completed yet
    assert_error(early, 409)
    assert await escrow_of(payment["id"]) == TOTAL

    await complete(work.id)
    released = await pay.release(payment["id"])

    assert released.status_code == 200, released.text
    assert released.json()["data"]["escrowStatus"] == "released"
    assert await escrow_of(payment["id"]) == 0
    assert await balance(accounts.payable(work.technician_id)) == TOTAL - COMMISSION
    assert (await stored(work.id)).status is RepairStatus.COMPLETED
    await pay.ledger_is_valid()

    await _technician_paid_out(pay, work)


@pytest.mark.settings(escrow={"job_interval_seconds": 3600})
async def test_the_auto_release_job_pays_the_technician_after_the_dispute_window(pay: Payments):
    work, payment = await _paid_job(pay)
    await complete(work.id)
    assert await tasks.release_due_payments() == 0  # inside the dispute window
    assert await escrow_of(payment["id"]) == TOTAL

    clock.advance(timedelta(days=settings().escrow.dispute_window_days, minutes=1))

    assert await tasks.release_due_payments() == 1
    assert (await pay.payment(payment["id"]))["escrowStatus"] == "released"
    assert await balance(accounts.payable(work.technician_id)) == TOTAL - COMMISSION
    await pay.ledger_is_valid()
    await _technician_paid_out(pay, work)


@pytest.mark.settings(escrow={"job_interval_seconds": 3600})
async def test_an_unfinished_job_is_never_auto_released(pay: Payments):
    work, payment = await _paid_job(pay)
    clock.advance(timedelta(days=settings().escrow.dispute_window_days + 1))

    assert await tasks.release_due_payments() == 0
    assert (await pay.payment(payment["id"]))["escrowStatus"] == "held"
    assert await escrow_of(payment["id"]) == TOTAL


async def test_paying_needs_an_accepted_quote(pay: Payments):
    work = await job(pay.api)
    no_quote = await start_payment(pay, work.customer, work.id)
    body = assert_error(no_quote, 422)
    assert body["data"]["ruleFlags"] == ["QUOTE_NOT_ACCEPTED"]

    proposed = await pay.client.post(
        f"/api/repairs/{work.id}/quote",
        json={"lines": [{"description": "Labour", "kind": "labour", "amount": 10_000}]},
        headers=work.technician.headers)
    assert proposed.status_code == 201
    assert_error(await start_payment(pay, work.customer, work.id), 422)
    listed = await pay.client.get("/api/payments", headers=work.customer.headers)
    assert listed.json()["data"]["items"] == []


async def test_only_the_customer_pays_and_once(pay: Payments):
    work, payment = await _paid_job(pay)
    assert_error(await start_payment(pay, await pay.api.customer(), work.id), 404)
    assert_error(await start_payment(pay, work.technician, work.id), 403)
    assert_error(await start_payment(pay, work.customer, work.id), 409)
    assert (await stored(work.id)).payment_id == payment["id"]


@pytest.mark.parametrize("body", [{}, {"orderId": "ord_1", "repairId": "rep_1"},
                                  {"repairId": ""}, {"repairId": "rep_1", "extra": 1}])
async def test_a_payment_names_exactly_one_payable(pay: Payments, body: dict):
    customer = await pay.api.customer()
    response = await pay.client.post("/api/payments", json=body,
                                     headers={**customer.headers, "Idempotency-Key": "k-1"})
    assert_error(response, 422)


async def test_the_technician_commission_tier_sets_the_rate(pay: Payments):
    admin = await pay.api.admin("finance")
    tiers = await pay.client.get("/api/admin/technician-commission-tiers", headers=admin.headers)
    assert tiers.status_code == 200 and tiers.json()["data"] == {"tiers": {"standard": 1000}}
    changed = await pay.client.put("/api/admin/technician-commission-tiers",
                                   json={"tiers": {"standard": 500, "gold": 300}},
                                   headers=(await pay.api.root_admin()).headers)
    assert changed.status_code == 200, changed.text
    dealer_tiers = await pay.client.get("/api/admin/commission-tiers", headers=admin.headers)
    assert dealer_tiers.json()["data"] == {"tiers": {"standard": 1000}}

    work = await job(pay.api)
    await quoted_and_accepted(pay.api, work)
    started = await start_payment(pay, work.customer, work.id)

    assert started.status_code == 201, started.text
    breakdown = started.json()["data"]["commissionBreakdown"]
    assert breakdown["rateBps"] == 500 and breakdown["commission"] == 7_500
    assert breakdown["dealerShare"] == TOTAL - 7_500


async def test_a_technician_tier_in_use_cannot_be_removed(pay: Payments, mongo_db):
    root = await pay.api.root_admin()
    put = await pay.client.put("/api/admin/technician-commission-tiers",
                               json={"tiers": {"standard": 1000, "gold": 300}},
                               headers=root.headers)
    assert put.status_code == 200, put.text
    work = await job(pay.api)
    await mongo_db.technicians.update_one({"_id": work.technician_id},
                                          {"$set": {"commission_tier": "gold"}})

    removed = await pay.client.put("/api/admin/technician-commission-tiers",
                                   json={"tiers": {"standard": 1000}}, headers=root.headers)

    body = assert_error(removed, 409)
    assert body["data"]["tiersInUse"] == ["gold"] and "technicians" in body["message"]
    kept = await pay.client.get("/api/admin/technician-commission-tiers", headers=root.headers)
    assert kept.json()["data"]["tiers"] == {"standard": 1000, "gold": 300}
    await quoted_and_accepted(pay.api, work)
    started = await start_payment(pay, work.customer, work.id)
    assert started.json()["data"]["commissionBreakdown"]["rateBps"] == 300


@pytest.mark.settings(escrow={"job_interval_seconds": 3600})
async def test_a_suspended_technicians_escrow_waits_for_an_admin(pay: Payments):
    work, payment = await _paid_job(pay)
    await complete(work.id)
    ops = await pay.api.admin("ops")
    suspended = await pay.client.patch(
        f"/api/technicians/{work.technician_id}/status",
        json={"action": "suspend", "reason": "Customer complaints under review"},
        headers=ops.headers)
    assert suspended.status_code == 200, suspended.text
    clock.advance(timedelta(days=settings().escrow.dispute_window_days, minutes=1))

    assert await tasks.release_due_payments() == 0

    assert (await pay.payment(payment["id"]))["escrowStatus"] == "held"
    assert await escrow_of(payment["id"]) == TOTAL
    finance = await pay.finance()
    alerts = await pay.client.get("/api/admin/alerts", params={"kind": "escrow_dealer_stopped"},
                                  headers=finance.headers)
    found = [a for a in alerts.json()["data"]["items"] if a["subjectId"] == payment["id"]]
    assert len(found) == 1 and found[0]["details"]["technicianId"] == work.technician_id
    released = await pay.release(payment["id"])  # finance still decides
    assert released.status_code == 200, released.text
    await pay.ledger_is_valid()


async def test_a_finance_admin_moves_a_technician_to_another_tier(pay: Payments, mongo_db):
    root = await pay.api.root_admin()
    put = await pay.client.put("/api/admin/technician-commission-tiers",
                               json={"tiers": {"standard": 1000, "gold": 300}},
                               headers=root.headers)
    assert put.status_code == 200, put.text
    work = await job(pay.api)
    finance = await pay.finance()
    url = f"/api/technicians/{work.technician_id}/commission-tier"

    unknown = await pay.client.patch(url, json={"tier": "platinum"}, headers=finance.headers)
    assert_error(unknown, 422)
    assert_error(await pay.client.patch(url, json={"tier": "gold"},
                                        headers=work.technician.headers), 403)
    moved = await pay.client.patch(url, json={"tier": "gold", "reason": "Top rated"},
                                   headers=finance.headers)

    assert moved.status_code == 200, moved.text
    assert moved.json()["data"]["commissionTier"] == "gold"
    stored_tier = await mongo_db.technicians.find_one({"_id": work.technician_id})
    assert stored_tier["commission_tier"] == "gold"
    assert await pay.api.audited(root, "technician.commission_tier_changed", work.technician_id)
    await quoted_and_accepted(pay.api, work)
    started = await start_payment(pay, work.customer, work.id)
    assert started.json()["data"]["commissionBreakdown"]["rateBps"] == 300
