"""Auto-release never pays a suspended or blocked dealer: it skips that escrow and alerts once."""

import pytest

from app.payments import tasks
from tests.payments.factories import Payments, escrow_of

IMMEDIATE = {"dispute_window_days": 0, "job_interval_seconds": 3600}


async def _stop(pay: Payments, dealer_id: str, action: str) -> None:
    ops = await pay.api.admin("ops")
    response = await pay.client.patch(
        f"/api/dealers/{dealer_id}/status", json={"action": action, "reason": "Fraud review"},
        headers=ops.headers,
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("action", ["block", "suspend"])
@pytest.mark.settings(escrow=IMMEDIATE)
async def test_auto_release_skips_a_stopped_dealers_escrow_and_alerts_once(
    pay: Payments, mongo_db, action: str
):
    stopped = await pay.delivered()
    running = await pay.delivered()
    await _stop(pay, stopped.shop.dealer_id, action)
    payment_id = stopped.payment["id"]
    held = await escrow_of(payment_id)

    await tasks.release_due_escrow()
    await tasks.release_due_escrow()  # a second run neither releases nor alerts again

    assert (await pay.payment(payment_id))["escrowStatus"] == "held"
    assert await escrow_of(payment_id) == held == stopped.payment["amount"]
    assert await pay.order_status(stopped) == "delivered"
    assert (await pay.payment(running.payment["id"]))["escrowStatus"] == "released"
    finance = await pay.finance()
    listed = await pay.client.get("/api/admin/alerts", params={"kind": "escrow_dealer_stopped"},
                                  headers=finance.headers)
    assert listed.status_code == 200, listed.text
    alerts = listed.json()["data"]["items"]
    assert [a["subjectId"] for a in alerts] == [payment_id]
    expected_status = "blocked" if action == "block" else "suspended"
    assert alerts[0]["details"]["dealerId"] == stopped.shop.dealer_id
    assert alerts[0]["details"]["dealerStatus"] == expected_status
    assert await mongo_db.alerts.count_documents({"kind": "escrow_dealer_stopped"}) == 1
    await pay.ledger_is_valid()
