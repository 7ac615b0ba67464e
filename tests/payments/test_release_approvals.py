"""The auto-release job is never the second approver of a release that needs two finance
admins: such a release waits for people, and the job escalates it."""

import pytest

from app.payments import tasks
from tests.payments.factories import Payments, escrow_of

DUE_NOW = {"dispute_window_days": 0, "job_interval_seconds": 3600}
ABOVE_THRESHOLD = 5_100_000  # ESCROW_RELEASE_APPROVAL_THRESHOLD is 5,000,000 paise


async def _alerts(pay: Payments, payment_id: str) -> list[dict]:
    finance = await pay.finance()
    listed = await pay.client.get("/api/admin/alerts",
                                  params={"kind": "release_awaits_approval"},
                                  headers=finance.headers)
    assert listed.status_code == 200, listed.text
    return [a for a in listed.json()["data"]["items"] if a["subjectId"] == payment_id]


@pytest.mark.settings(escrow=DUE_NOW)
async def test_the_auto_release_job_waits_for_a_second_finance_admin_and_escalates(
    pay: Payments,
):
    purchase = await pay.delivered(b2c=ABOVE_THRESHOLD)
    payment_id, amount = purchase.payment["id"], purchase.payment["amount"]

    assert await tasks.release_due_payments() == 0

    assert (await pay.payment(payment_id))["escrowStatus"] == "held"
    alerts = await _alerts(pay, payment_id)
    assert len(alerts) == 1 and alerts[0]["details"]["amount"] == amount

    first_admin = await pay.finance()
    first = await pay.release(payment_id, first_admin)
    assert first.status_code == 202, first.text

    # One finance admin approved: the job must not be the second.
    assert await tasks.release_due_payments() == 0

    current = await pay.payment(payment_id)
    assert current["escrowStatus"] == "held" and current["amountReleased"] == 0
    assert current["releaseApproval"]["requestedBy"] == first_admin.id
    assert await escrow_of(payment_id) == amount
    assert await pay.order_status(purchase) == "delivered"
    assert len(await _alerts(pay, payment_id)) == 1  # one open alert, not one per run

    second = await pay.release(payment_id, await pay.api.admin("finance"))

    assert second.status_code == 200, second.text
    assert second.json()["data"]["escrowStatus"] == "released"
    assert await escrow_of(payment_id) == 0
    assert await pay.order_status(purchase) == "completed"
    await pay.ledger_is_valid()


@pytest.mark.settings(escrow=DUE_NOW)
async def test_the_job_still_releases_below_the_threshold(pay: Payments):
    purchase = await pay.delivered()

    assert await tasks.release_due_payments() == 1

    assert (await pay.payment(purchase.payment["id"]))["escrowStatus"] == "released"
    assert await _alerts(pay, purchase.payment["id"]) == []
