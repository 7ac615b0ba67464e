"""The sandbox's own rules and controls that no client of the platform reaches: refusals of
refunds and captures, settling refunds, on-demand events, and how it signs and delivers its
webhooks (driven in-process; webhooks go over real HTTP to a receiver)."""

import hashlib
import hmac

import httpx

from tests.helpers import eventually
from tests.live import WebhookReceiver
from tests.sandbox.factories import WEBHOOK_SECRET, error, order, paid, sandbox_client


async def test_unknown_webhook_event_is_a_404_error_object(sandbox: httpx.AsyncClient) -> None:
    shown = await sandbox.get("/webhooks/evt_missing")
    redelivered = await sandbox.post("/webhooks/evt_missing/redeliver")

    assert shown.status_code == redelivered.status_code == 404
    assert error(shown)["description"] == "The id provided does not exist"
    assert error(redelivered)["code"] == "BAD_REQUEST_ERROR"


async def test_wrong_method_is_a_405_error_object(sandbox: httpx.AsyncClient) -> None:
    answer = await sandbox.delete("/v1/orders")

    assert answer.status_code == 405
    assert error(answer)["description"] == "Method not allowed"


async def test_refunds_beyond_the_payment_are_refused(sandbox: httpx.AsyncClient) -> None:
    payment_id = (await paid(sandbox, 10000))["razorpay_payment_id"]
    url = f"/v1/payments/{payment_id}/refund"

    part = await sandbox.post(url, json={"amount": 6000})
    too_much = await sandbox.post(url, json={"amount": 5000})
    rest = await sandbox.post(url, json={})
    none_left = await sandbox.post(url, json={"amount": 100})

    assert part.status_code == rest.status_code == 200
    assert rest.json()["amount"] == 4000
    assert too_much.status_code == 400
    assert error(too_much)["description"] == (
        "The total refund amount is greater than the refund payment amount"
    )
    assert error(too_much)["field"] == "amount"
    assert none_left.status_code == 400
    assert error(none_left)["description"] == "The payment has been fully refunded already"
    payment = (await sandbox.get(f"/v1/payments/{payment_id}")).json()
    assert (payment["amount_refunded"], payment["refund_status"]) == (10000, "full")


async def test_refund_speed_must_be_normal_or_optimum(sandbox: httpx.AsyncClient) -> None:
    payment_id = (await paid(sandbox))["razorpay_payment_id"]

    instant = await sandbox.post(f"/v1/payments/{payment_id}/refund", json={"speed": "instant"})
    optimum = await sandbox.post(f"/v1/payments/{payment_id}/refund",
                                 json={"amount": 1000, "speed": "optimum"})

    assert instant.status_code == 400 and error(instant)["field"] == "speed"
    assert optimum.status_code == 200
    assert (optimum.json()["speed_requested"], optimum.json()["speed_processed"]) == (
        "optimum", "normal"
    )


async def test_refund_is_not_found_under_another_payment(sandbox: httpx.AsyncClient) -> None:
    first = (await paid(sandbox))["razorpay_payment_id"]
    second = (await paid(sandbox))["razorpay_payment_id"]
    refund = (await sandbox.post(f"/v1/payments/{first}/refund", json={})).json()

    own = await sandbox.get(f"/v1/payments/{first}/refunds/{refund['id']}")
    other = await sandbox.get(f"/v1/payments/{second}/refunds/{refund['id']}")
    direct = await sandbox.get(f"/v1/refunds/{refund['id']}")

    assert own.status_code == direct.status_code == 200
    assert own.json() == direct.json() == refund
    assert other.status_code == 400
    assert error(other)["description"] == "The id provided does not exist"


async def test_failed_payment_cannot_be_captured(sandbox: httpx.AsyncClient) -> None:
    created = await order(sandbox, 20000)
    failed = await sandbox.post(f"/checkout/{created['id']}", json={"outcome": "failure"})
    [payment] = (await sandbox.get(f"/v1/orders/{created['id']}/payments")).json()["items"]

    capture = await sandbox.post(f"/v1/payments/{payment['id']}/capture", json={"amount": 20000})

    assert failed.status_code == 400 and error(failed)["reason"] == "payment_failed"
    assert error(failed)["metadata"] == {"order_id": created["id"], "payment_id": payment["id"]}
    assert payment["status"] == "failed" and payment["error_code"] == "BAD_REQUEST_ERROR"
    assert capture.status_code == 400
    assert error(capture)["description"] == (
        "Only payments which have been authorized and not yet captured can be captured"
    )


async def test_pending_refund_settles_once(sandbox: httpx.AsyncClient) -> None:
    sandbox.app.state.sandbox.auto_process_refunds = False  # type: ignore[attr-defined]
    payment_id = (await paid(sandbox, 30000))["razorpay_payment_id"]
    refund = (await sandbox.post(f"/v1/payments/{payment_id}/refund", json={})).json()

    settled = await sandbox.post(f"/refunds/{refund['id']}/settle", json={"outcome": "processed"})
    again = await sandbox.post(f"/refunds/{refund['id']}/settle", json={"outcome": "failed"})

    assert refund["status"] == "pending" and refund["acquirer_data"] == {"arn": None}
    assert settled.status_code == 200
    assert settled.json()["status"] == "processed" and settled.json()["acquirer_data"]["arn"]
    assert again.status_code == 400
    assert error(again)["description"] == "The refund is already processed"
    payment = (await sandbox.get(f"/v1/payments/{payment_id}")).json()
    assert (payment["status"], payment["amount_refunded"]) == ("refunded", 30000)
    events = [event["event"] for event in (await sandbox.get("/webhooks")).json()]
    assert events[0] == "refund.processed"


async def test_on_demand_events_need_their_entity(sandbox: httpx.AsyncClient) -> None:
    no_payment = await sandbox.post("/webhooks/send", json={"event": "payment.captured"})
    no_refund = await sandbox.post("/webhooks/send", json={"event": "refund.processed"})

    assert no_payment.status_code == no_refund.status_code == 400
    assert error(no_payment)["field"] == "paymentId"
    assert error(no_refund)["description"] == "refundId is required for refund.processed"


async def test_order_paid_event_shows_the_order_paid_without_changing_it(
    sandbox: httpx.AsyncClient,
) -> None:
    created = await order(sandbox, 15000)
    authorized = await sandbox.post(f"/checkout/{created['id']}", json={"outcome": "authorized"})
    payment_id = authorized.json()["razorpay_payment_id"]

    sent = await sandbox.post("/webhooks/send", json={"event": "order.paid",
                                                      "paymentId": payment_id})

    assert sent.status_code == 200, sent.text
    body = sent.json()["body"]
    assert body["contains"] == ["payment", "order"]
    announced = body["payload"]["order"]["entity"]
    assert (announced["status"], announced["amount_paid"], announced["amount_due"]) == (
        "paid", 15000, 0
    )
    assert body["payload"]["payment"]["entity"]["status"] == "captured"
    stored = (await sandbox.get(f"/v1/orders/{created['id']}")).json()
    assert (stored["status"], stored["amount_paid"]) == ("attempted", 0)
    assert (await sandbox.get(f"/v1/payments/{payment_id}")).json()["status"] == "authorized"


async def test_undeliverable_webhook_is_recorded_not_raised(sandbox: httpx.AsyncClient) -> None:
    payment_id = (await paid(sandbox))["razorpay_payment_id"]

    sent = await sandbox.post("/webhooks/send", json={"event": "payment.captured",
                                                      "paymentId": payment_id})

    assert sent.status_code == 200
    [delivery] = sent.json()["deliveries"]
    assert delivery["statusCode"] is None and delivery["error"] == "ConnectError"


async def test_sent_webhooks_are_signed_with_the_webhook_secret(
    webhook_receiver: WebhookReceiver,
) -> None:
    async with sandbox_client(webhook_receiver.url, deliver=True) as sandbox:
        payment_id = (await paid(sandbox, 25000))["razorpay_payment_id"]
        [webhook] = await webhook_receiver.wait_for(1)
        listed = await eventually(lambda: sandbox.get("/webhooks"),
                                  lambda answer: answer.json()[0]["deliveries"] != [])
    [recorded] = listed.json()

    expected = hmac.new(WEBHOOK_SECRET.encode(), webhook.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(webhook.signature, expected)
    assert webhook.headers["user-agent"] == "Razorpay-Webhook/v1"
    assert webhook.headers["content-type"] == "application/json"
    assert webhook.event_id == recorded["id"]
    assert recorded["body"]["payload"]["payment"]["entity"]["id"] == payment_id
    assert recorded["deliveries"][0]["statusCode"] == 200
