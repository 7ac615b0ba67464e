"""Money steps that were not audited: a refund becoming processed, every change of a
payment's refunds in flight, and a dispute's next refund attempt."""

import pytest

from app.payments.models import Refund, RefundStatus
from tests.disputes.factories import Disputes
from tests.helpers import eventually
from tests.payments.factories import Payments, idem


@pytest.fixture
def disputes(pay: Payments) -> Disputes:
    return Disputes(pay)


async def _stored_payment(mongo_db, payment_id: str) -> dict:
    return await mongo_db.payments.find_one({"_id": payment_id})


async def test_a_refund_processed_at_once_is_audited_with_the_refunds_in_flight(
    pay: Payments, mongo_db
):
    purchase = await pay.delivered()
    payment_id = purchase.payment["id"]

    response = await pay.refund(payment_id, 10_000)

    assert response.status_code == 201, response.text
    refund = response.json()["data"]
    assert refund["status"] == "processed"
    auditor = await pay.api.admin("compliance")
    [reserved] = await pay.api.audited(auditor, "payment.refunded", payment_id)
    assert reserved["changes"] == {"amountRefunded": {"from": 0, "to": 10_000},
                                   "refundsInFlight": {"from": 0, "to": 1}}
    [processed] = await pay.api.audited(auditor, "payment.refund_processed", payment_id)
    assert processed["changes"] == {"refundStatus": {"from": "pending", "to": "processed"},
                                    "refundsInFlight": {"from": 1, "to": 0}}
    # The gateway's answer and its webhook race; whichever lands first records it, once.
    assert processed["metadata"] == {"refundId": refund["id"],
                                     "gatewayRefundId": refund["gatewayRefundId"],
                                     "amount": 10_000, "via": processed["metadata"]["via"]}
    assert processed["metadata"]["via"] in {"gateway answer", "refund.processed webhook"}
    assert processed["seq"] > reserved["seq"]
    assert (await _stored_payment(mongo_db, payment_id))["refunds_in_flight"] == 0
    assert (await Refund.get(refund["id"])).status is RefundStatus.PROCESSED
    # The gateway's webhook for the same refund arrives later and changes nothing more.
    await eventually(lambda: mongo_db.gateway_events.find_one({"event": "refund.processed"}),
                     lambda event: event is not None)
    assert len(await pay.api.audited(auditor, "payment.refund_processed", payment_id)) == 1


async def test_a_refund_settled_later_by_webhook_is_audited(pay: Payments, mongo_db):
    purchase = await pay.delivered()
    payment_id = purchase.payment["id"]
    pay.live.sandbox.auto_process_refunds = False
    refund = (await pay.refund(payment_id, 10_000)).json()["data"]
    assert refund["status"] == "pending"
    assert (await _stored_payment(mongo_db, payment_id))["refunds_in_flight"] == 1

    settled = await pay.sandbox("POST", f"/refunds/{refund['gatewayRefundId']}/settle",
                                json={"outcome": "processed"})

    assert settled.status_code == 200, settled.text
    auditor = await pay.api.admin("compliance")
    [processed] = await pay.api.audited(auditor, "payment.refund_processed", payment_id)
    assert (processed["actorId"], processed["actorRole"]) == ("system", "system")
    assert processed["changes"] == {"refundStatus": {"from": "pending", "to": "processed"},
                                    "refundsInFlight": {"from": 1, "to": 0}}
    assert processed["metadata"]["via"] == "refund.processed webhook"
    assert processed["metadata"]["refundId"] == refund["id"]
    assert (await _stored_payment(mongo_db, payment_id))["refunds_in_flight"] == 0
    assert (await Refund.get(refund["id"])).status is RefundStatus.PROCESSED


async def test_a_failed_refund_is_audited_with_what_it_gave_back(pay: Payments, mongo_db):
    purchase = await pay.delivered()
    payment_id = purchase.payment["id"]
    pay.live.sandbox.auto_process_refunds = False
    refund = (await pay.refund(payment_id, 10_000)).json()["data"]

    failed = await pay.sandbox("POST", f"/refunds/{refund['gatewayRefundId']}/settle",
                               json={"outcome": "failed"})

    assert failed.status_code == 200, failed.text
    auditor = await pay.api.admin("compliance")
    [entry] = await pay.api.audited(auditor, "payment.refund_failed", payment_id)
    assert entry["changes"] == {"refundStatus": {"from": "pending", "to": "failed"},
                                "amountRefunded": {"from": 10_000, "to": 0},
                                "refundsInFlight": {"from": 1, "to": 0}}
    stored = await _stored_payment(mongo_db, payment_id)
    assert stored["refunds_in_flight"] == 0 and stored["amount_refunded"] == 0
    assert await pay.api.audit_entries(auditor, action="payment.refund_processed") == []


async def test_a_disputes_next_refund_attempt_is_audited(
    pay: Payments, disputes: Disputes, gateway, mongo_db
):
    purchase = await pay.delivered()
    payment_id, amount = purchase.payment["id"], purchase.payment["amount"]
    dispute = await disputes.opened(purchase)
    stored = await _stored_payment(mongo_db, payment_id)
    # Refunded in full at the gateway behind the platform's back: every attempt is refused.
    await gateway.refund(stored["gateway_payment_id"], amount, idempotency_key="dashboard-refund-1",
                         notes={})
    first = await disputes.resolve(dispute["id"], "refund_buyer", note="Courier lost it")
    assert first.status_code == 502, first.text
    halfway = await mongo_db.disputes.find_one({"_id": dispute["id"]})
    first_refund_id = halfway["resolution"]["refund_id"]
    assert halfway["resolution"]["refund_attempt"] == 1
    assert (await Refund.get(first_refund_id)).status is RefundStatus.FAILED

    retried = await disputes.resolve(dispute["id"], "refund_buyer", note="Courier lost it",
                                     **idem())

    assert retried.status_code == 502, retried.text
    now = await mongo_db.disputes.find_one({"_id": dispute["id"]})
    assert now["resolution"]["refund_attempt"] == 2
    second_refund_id = now["resolution"]["refund_id"]
    assert second_refund_id != first_refund_id
    [entry] = await disputes.audited("dispute.refund_retried", dispute["id"])
    assert entry["actorId"] == (await disputes.lead()).id
    assert entry["changes"] == {"refundAttempt": {"from": 1, "to": 2},
                                "refundId": {"from": first_refund_id, "to": second_refund_id}}
    assert entry["metadata"] == {"paymentId": payment_id, "amount": amount}
    assert entry["reason"] == f"Refund {first_refund_id} failed at the gateway"
