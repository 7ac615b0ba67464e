"""The SLA job reconciles missed webhooks and raises alerts; escrow auto-release."""


import pytest

from app.payments import tasks
from tests.payments.factories import Payments, escrow_of

IMMEDIATE = {"payment_stuck_after_minutes": 0, "dispute_window_days": 0,
             "held_sla_days": 0, "job_interval_seconds": 3600}



@pytest.mark.settings(escrow=IMMEDIATE)
async def test_missed_webhook_is_reconciled_by_the_sla_job(pay: Payments):
    purchase = await pay.started()
    paid = await pay.checkout(purchase, deliver_webhook=False)
    assert paid.status_code == 200
    assert (await pay.payment(purchase.payment["id"]))["status"] == "created"

    await tasks.enforce_payment_slas()

    current = await pay.payment(purchase.payment["id"])
    assert current["status"] == "captured" and current["escrowStatus"] == "held"
    assert await pay.order_status(purchase) == "paid"
    assert await escrow_of(purchase.payment["id"]) == purchase.payment["amount"]
    await pay.ledger_is_valid()


@pytest.mark.settings(escrow=IMMEDIATE)
async def test_unpaid_payment_raises_one_alert_that_finance_acknowledges(pay: Payments):
    purchase = await pay.started()
    await tasks.enforce_payment_slas()
    await tasks.enforce_payment_slas()
    finance = await pay.finance()
    listed = await pay.client.get("/api/admin/alerts", params={"open": "true",
                                  "kind": "payment_stuck"}, headers=finance.headers)
    assert listed.status_code == 200
    alerts = [a for a in listed.json()["data"]["items"]
              if a["subjectId"] == purchase.payment["id"]]
    assert len(alerts) == 1
    customer_view = await pay.client.get("/api/admin/alerts", headers=purchase.buyer.headers)
    assert customer_view.status_code == 403

    ack = await pay.client.patch(f"/api/admin/alerts/{alerts[0]['id']}",
                                 json={"acknowledged": True, "note": "Buyer abandoned"},
                                 headers=finance.headers)
    assert ack.status_code == 200
    assert ack.json()["data"]["acknowledgedBy"] == finance.id
    again = await pay.client.patch(f"/api/admin/alerts/{alerts[0]['id']}",
                                   json={"acknowledged": True}, headers=finance.headers)
    assert again.status_code == 409
    compliance = await pay.api.admin("compliance")
    entries = await pay.api.wait_for_audit(compliance, action="alert.payment_stuck")
    assert entries[0]["subjectId"] == purchase.payment["id"]


@pytest.mark.settings(escrow=IMMEDIATE)
async def test_held_escrow_past_sla_is_escalated(pay: Payments):
    purchase = await pay.paid()
    await tasks.enforce_payment_slas()
    finance = await pay.finance()
    listed = await pay.client.get("/api/admin/alerts", params={"kind": "escrow_overdue"},
                                  headers=finance.headers)
    subjects = [a["subjectId"] for a in listed.json()["data"]["items"]]
    assert purchase.payment["id"] in subjects


@pytest.mark.settings(escrow=IMMEDIATE)
async def test_escrow_is_released_automatically_after_the_dispute_window(pay: Payments):
    purchase = await pay.delivered()
    undelivered = await pay.paid()
    await tasks.release_due_escrow()
    released = await pay.payment(purchase.payment["id"])
    assert released["escrowStatus"] == "released"
    assert (await pay.payment(undelivered.payment["id"]))["escrowStatus"] == "held"
    assert await pay.order_status(purchase) == "completed"
    await pay.ledger_is_valid()
