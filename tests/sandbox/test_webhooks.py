"""The sandbox's webhooks, read through the gateway SDK over real loopback HTTP: signed like
Razorpay's, unique event ids, missed and redelivered events, late events and pending refunds
settled on demand. They land on a separate receiver server."""

import json

import httpx
import pytest

from app.core.config import Settings
from app.payments.gateway import (
    GatewayPaymentStatus,
    GatewayRefundStatus,
    RazorpayGateway,
    parse_webhook_event,
)
from tests.helpers import eventually
from tests.live import LiveServer, WebhookReceiver, with_payment_settings
from tests.sandbox.factories import paid_order as _paid_order


@pytest.fixture
def config(config: Settings, webhook_receiver: WebhookReceiver) -> Settings:
    return with_payment_settings(config, webhook_url=webhook_receiver.url)


async def test_checkout_delivers_a_signed_payment_captured_webhook(
    live_server: LiveServer, gateway: RazorpayGateway, webhook_receiver: WebhookReceiver
) -> None:
    order, answer = await _paid_order(live_server, gateway)

    [webhook] = await webhook_receiver.wait_for(1)

    assert gateway.verify_webhook_signature(webhook.body, webhook.signature)
    assert not gateway.verify_webhook_signature(webhook.body + b" ", webhook.signature)
    assert not live_server.gateway(razorpay_webhook_secret="other").verify_webhook_signature(
        webhook.body, webhook.signature
    )
    event = parse_webhook_event(webhook.body, webhook.event_id)
    assert event.event == "payment.captured"
    assert event.payment is not None and event.payment.id == answer["razorpay_payment_id"]
    assert event.payment.order_id == order.id and event.payment.amount == order.amount
    body = json.loads(webhook.body)
    assert body["entity"] == "event" and body["contains"] == ["payment"]
    assert body["account_id"].startswith("acc_")


async def test_webhook_event_ids_are_unique(
    live_server: LiveServer, gateway: RazorpayGateway, webhook_receiver: WebhookReceiver
) -> None:
    _, first = await _paid_order(live_server, gateway)
    await _paid_order(live_server, gateway)
    await gateway.refund(first["razorpay_payment_id"], 10000, "unique-ids-refund", {})

    received = await webhook_receiver.wait_for(3)

    assert len({webhook.event_id for webhook in received}) == 3
    assert sorted(parse_webhook_event(w.body, w.event_id).event for w in received) == [
        "payment.captured", "payment.captured", "refund.processed"
    ]
    refund_event = next(
        parse_webhook_event(w.body, w.event_id) for w in received if b"refund.processed" in w.body
    )
    assert refund_event.refund is not None and refund_event.refund.amount == 10000
    assert refund_event.payment is not None and refund_event.payment.amount_refunded == 10000


async def test_checkout_without_webhook_delivers_nothing_until_redelivered(
    live_server: LiveServer, gateway: RazorpayGateway, webhook_receiver: WebhookReceiver
) -> None:
    silent = await gateway.create_order(49900, receipt="pay_silent", notes={})
    answer = await live_server.checkout(silent.id, deliver_webhook=False)
    assert answer.status_code == 200
    # A later, delivered checkout arrives alone: the first one sent nothing.
    await _paid_order(live_server, gateway)
    [delivered] = await webhook_receiver.wait_for(1)
    silent_payment_id = answer.json()["razorpay_payment_id"]
    assert silent_payment_id.encode() not in delivered.body
    [missed] = [
        e for e in live_server.sandbox_store.events.values() if silent_payment_id.encode() in e.body
    ]
    assert missed.deliveries == []

    async with httpx.AsyncClient(base_url=live_server.sandbox_url) as http:
        redelivered = await http.post(f"/webhooks/{missed.id}/redeliver")

    assert redelivered.status_code == 200
    assert redelivered.json()["deliveries"][0]["statusCode"] == 200
    late = webhook_receiver.received[-1]
    assert late.event_id == missed.id and silent_payment_id.encode() in late.body
    assert gateway.verify_webhook_signature(late.body, late.signature)


async def test_redeliver_sends_the_same_event_again(
    live_server: LiveServer, gateway: RazorpayGateway, webhook_receiver: WebhookReceiver
) -> None:
    await _paid_order(live_server, gateway)
    [original] = await webhook_receiver.wait_for(1)

    async with httpx.AsyncClient(base_url=live_server.sandbox_url) as http:
        for _ in range(3):
            answer = await http.post(f"/webhooks/{original.event_id}/redeliver")
            assert answer.status_code == 200
        latest = await http.post("/webhooks/redeliver", json={"last": 1})

    replays = webhook_receiver.received[1:]
    assert len(replays) == 4
    assert {w.event_id for w in replays} == {original.event_id}
    assert {w.body for w in replays} == {original.body}
    assert all(gateway.verify_webhook_signature(w.body, w.signature) for w in replays)
    assert [e["id"] for e in latest.json()] == [original.event_id]
    async with httpx.AsyncClient(base_url=live_server.sandbox_url) as http:
        attempts = await eventually(
            lambda: http.get(f"/webhooks/{original.event_id}"),
            lambda answer: len(answer.json()["deliveries"]) == 5,
        )
    assert {d["statusCode"] for d in attempts.json()["deliveries"]} == {200}


async def test_late_payment_failed_after_capture_is_sent_on_demand(
    live_server: LiveServer, gateway: RazorpayGateway, webhook_receiver: WebhookReceiver
) -> None:
    _, answer = await _paid_order(live_server, gateway)
    await webhook_receiver.wait_for(1)
    payment_id = answer["razorpay_payment_id"]

    async with httpx.AsyncClient(base_url=live_server.sandbox_url) as http:
        sent = await http.post(
            "/webhooks/send", json={"event": "payment.failed", "paymentId": payment_id}
        )

    assert sent.status_code == 200, sent.text
    late = webhook_receiver.received[-1]
    event = parse_webhook_event(late.body, late.event_id)
    assert gateway.verify_webhook_signature(late.body, late.signature)
    assert event.event == "payment.failed" and event.payment is not None
    assert event.payment.id == payment_id and event.payment.status is GatewayPaymentStatus.FAILED
    assert late.event_id != webhook_receiver.received[0].event_id
    assert (await gateway.fetch_payment(payment_id)).status is GatewayPaymentStatus.CAPTURED


async def test_pending_refund_settles_later_with_its_webhook(
    live_server: LiveServer, gateway: RazorpayGateway, webhook_receiver: WebhookReceiver
) -> None:
    _, answer = await _paid_order(live_server, gateway, amount=20000)
    await webhook_receiver.wait_for(1)
    payment_id = answer["razorpay_payment_id"]
    live_server.sandbox.auto_process_refunds = False

    refund = await gateway.refund(payment_id, 20000, "pending-refund-1", {})
    assert refund.status is GatewayRefundStatus.PENDING
    async with httpx.AsyncClient(base_url=live_server.sandbox_url) as http:
        settled = await http.post(f"/refunds/{refund.id}/settle", json={"outcome": "failed"})
    assert settled.status_code == 200, settled.text
    [_, webhook] = await webhook_receiver.wait_for(2)

    event = parse_webhook_event(webhook.body, webhook.event_id)
    assert event.event == "refund.failed" and event.refund is not None
    assert event.refund.id == refund.id and event.refund.status is GatewayRefundStatus.FAILED
    assert (await gateway.fetch_refund(refund.id)).status is GatewayRefundStatus.FAILED
    # The failed amount is refundable again.
    payment = await gateway.fetch_payment(payment_id)
    assert payment.amount_refunded == 0 and payment.status is GatewayPaymentStatus.CAPTURED
