"""Disputes over a paid repair job: its customer opens one (`repairId`), the escrow freezes,
and a resolution refunds the customer or releases to the technician through the same code."""

from datetime import timedelta

import pytest

from app.core import clock
from app.core.config import settings
from app.payments.ledger import accounts
from app.payments.models import Refund, RefundStatus
from app.repairs.models import RepairStatus
from tests.disputes.factories import DETAILS, Disputes
from tests.helpers import assert_error
from tests.payments.factories import Payments, balance, escrow_of
from tests.repairs_money.factories import Job, complete, job, paid, quoted_and_accepted, stored
from tests.technicians.factories import approved_technician

TOTAL = 150_000


@pytest.fixture
def disputes(pay: Payments) -> Disputes:
    return Disputes(pay)


async def _open(disputes: Disputes, work: Job, as_=None, **body):
    payload = {"repairId": work.id, "reason": "not_as_described", "details": DETAILS, **body}
    return await disputes.client.post("/api/disputes", json=payload,
                                      headers=(as_ or work.customer).headers)


async def _paid_job(pay: Payments, status: RepairStatus = RepairStatus.IN_PROGRESS):
    work = await job(pay.api, status)
    await quoted_and_accepted(pay.api, work)
    return work, await paid(pay, work)


async def test_a_repair_dispute_refunds_the_customer(pay: Payments, disputes: Disputes):
    work, payment = await _paid_job(pay)
    await complete(work.id)

    opened = await _open(disputes, work)

    assert opened.status_code == 201, opened.text
    dispute = opened.json()["data"]
    assert dispute["repairId"] == work.id and dispute["orderId"] is None
    assert dispute["technicianId"] == work.technician_id and dispute["dealerId"] is None
    assert dispute["buyerId"] == work.customer.id and dispute["amountInDispute"] == TOTAL
    assert (await pay.payment(payment["id"]))["escrowStatus"] == "disputed"
    # The technician sees it and adds evidence; a stranger gets 404.
    noted = await disputes.note(dispute["id"], work.technician, "Replaced display, photos attached")
    assert noted.status_code == 201, noted.text
    assert noted.json()["data"]["notes"][0]["role"] == "technician"
    stranger, _ = await approved_technician(pay.api)
    assert_error(await disputes.get(dispute["id"], stranger), 404)
    mine = await pay.client.get("/api/disputes", headers=work.technician.headers)
    assert [d["id"] for d in mine.json()["data"]["items"]] == [dispute["id"]]
    # The frozen escrow is not released meanwhile.
    assert_error(await pay.release(payment["id"]), 409)
    await pay.ledger_is_valid()

    resolved = await disputes.resolve(dispute["id"], "refund_buyer", note="Work not done")

    assert resolved.status_code == 200, resolved.text
    outcome = resolved.json()["data"]["resolution"]
    assert resolved.json()["data"]["status"] == "resolved"
    assert outcome["refundedAmount"] == TOTAL and outcome["releasedAmount"] == 0
    refund = await Refund.get(outcome["refundId"])
    assert refund is not None and refund.amount == TOTAL
    assert refund.status is RefundStatus.PROCESSED
    settled = await pay.payment(payment["id"])
    assert settled["status"] == "refunded" and settled["escrowStatus"] == "refunded"
    assert await escrow_of(payment["id"]) == 0
    assert await balance(accounts.payable(work.technician_id)) == 0
    assert (await stored(work.id)).status is RepairStatus.COMPLETED
    await pay.ledger_is_valid()
    entry = (await disputes.audited("dispute.resolved", dispute["id"]))[0]
    assert entry["metadata"]["repairId"] == work.id


async def test_a_repair_dispute_released_to_the_technician(pay: Payments, disputes: Disputes):
    work, payment = await _paid_job(pay)
    await complete(work.id)
    dispute = (await _open(disputes, work)).json()["data"]

    resolved = await disputes.resolve(dispute["id"], "release_to_dealer", note="Work was done")

    assert resolved.status_code == 200, resolved.text
    rate = payment["commissionBreakdown"]["rateBps"]
    share = TOTAL - TOTAL * rate // 10_000
    assert resolved.json()["data"]["resolution"]["dealerShare"] == share
    assert (await pay.payment(payment["id"]))["escrowStatus"] == "released"
    assert await balance(accounts.payable(work.technician_id)) == share
    await pay.ledger_is_valid()


async def test_who_may_dispute_a_repair_and_when(pay: Payments, disputes: Disputes):
    unpaid = await job(pay.api, RepairStatus.IN_PROGRESS)
    await quoted_and_accepted(pay.api, unpaid)
    assert_error(await _open(disputes, unpaid), 409)

    work, payment = await _paid_job(pay)
    assert_error(await _open(disputes, work, as_=await pay.api.customer()), 404)
    assert_error(await _open(disputes, work, as_=work.technician), 403)  # a participant
    both = await _open(disputes, work, orderId="ord_1")
    assert_error(both, 422)
    assert (await pay.payment(payment["id"]))["escrowStatus"] == "held"

    await complete(work.id)
    clock.advance(timedelta(days=settings().escrow.dispute_window_days, minutes=1))
    late = await _open(disputes, work)
    assert_error(late, 422)
    assert (await pay.payment(payment["id"]))["escrowStatus"] == "held"
    listed = await pay.client.get("/api/disputes", headers=work.customer.headers)
    assert listed.json()["data"]["items"] == []


async def test_one_open_dispute_per_repair(pay: Payments, disputes: Disputes):
    work, _ = await _paid_job(pay)
    first = await _open(disputes, work)
    assert first.status_code == 201, first.text
    second = await _open(disputes, work)
    body = assert_error(second, 409)
    assert body["data"]["repairId"] == work.id
