"""The Razorpay gateway (the official SDK) against the project's sandbox, over real loopback
HTTP; webhooks land on a separate receiver server."""

import json
import uuid

import httpx
import pytest
import razorpay

from app.core.config import Settings
from app.payments.gateway import (
    GatewayError,
    GatewayOrderStatus,
    GatewayPaymentStatus,
    GatewayRefundStatus,
    GatewayUnavailable,
    RazorpayGateway,
    parse_webhook_event,
)
from tests.helpers import eventually
from tests.live import LiveServer, WebhookReceiver, with_payment_settings


@pytest.fixture
def config(config: Settings, webhook_receiver: WebhookReceiver) -> Settings:
    return with_payment_settings(config, webhook_url=webhook_receiver.url)


@pytest.fixture
def gateway(live_server: LiveServer) -> RazorpayGateway:
    return live_server.gateway()


async def _paid_order(live_server: LiveServer, gateway: RazorpayGateway, amount: int = 49900):
    order = await gateway.create_order(amount, receipt=f"pay_{uuid.uuid4().hex[:20]}", notes={})
    answer = await live_server.checkout(order.id)
    assert answer.status_code == 200, answer.text
    return order, answer.json()


async def test_order_is_created_and_fetched_through_the_sdk(gateway: RazorpayGateway) -> None:
    created = await gateway.create_order(49900, receipt="pay_123", notes={"orderId": "ord_1"})

    fetched = await gateway.fetch_order(created.id)

    assert created.id.startswith("order_")
    assert (created.amount, created.currency, created.receipt) == (49900, "INR", "pay_123")
    assert created.status is GatewayOrderStatus.CREATED
    assert fetched == created
    assert fetched.notes == {"orderId": "ord_1"}


async def test_checkout_signature_verifies_and_tampering_fails(
    live_server: LiveServer, gateway: RazorpayGateway
) -> None:
    order, answer = await _paid_order(live_server, gateway)

    assert answer["razorpay_order_id"] == order.id
    order_id, payment_id, signature = (
        answer["razorpay_order_id"], answer["razorpay_payment_id"], answer["razorpay_signature"]
    )
    assert gateway.verify_payment_signature(order.id, payment_id, signature)
    # The SDK's own verifier agrees: the sandbox signs exactly as Razorpay does.
    key_secret = live_server.config.payments.razorpay_key_secret.get_secret_value()
    assert razorpay.Client(auth=(gateway.key_id, key_secret)).utility.verify_payment_signature(answer)
    tampered = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    assert not gateway.verify_payment_signature(order_id, payment_id, tampered)
    assert not gateway.verify_payment_signature("order_someoneelse1", payment_id, signature)
    assert not gateway.verify_payment_signature(order_id, payment_id, "")
    assert not gateway.verify_payment_signature(order_id, payment_id, "é" * 64)


async def test_successful_checkout_captures_the_full_amount(
    live_server: LiveServer, gateway: RazorpayGateway
) -> None:
    order, answer = await _paid_order(live_server, gateway, amount=125050)

    payment = await gateway.fetch_payment(answer["razorpay_payment_id"])
    paid_order = await gateway.fetch_order(order.id)
    attempts = await gateway.fetch_order_payments(order.id)

    assert payment.status is GatewayPaymentStatus.CAPTURED and payment.captured
    assert (payment.amount, payment.currency, payment.order_id) == (125050, "INR", order.id)
    assert payment.amount_refunded == 0 and payment.refundable == 125050
    assert paid_order.status is GatewayOrderStatus.PAID and paid_order.amount_paid == 125050
    assert attempts == [payment]


async def test_capturing_a_captured_payment_is_a_razorpay_error(
    live_server: LiveServer, gateway: RazorpayGateway
) -> None:
    _, answer = await _paid_order(live_server, gateway)

    with pytest.raises(GatewayError) as refused:
        await gateway.capture(answer["razorpay_payment_id"], 49900)

    assert not isinstance(refused.value, GatewayUnavailable)
    assert refused.value.code == "BAD_REQUEST_ERROR"
    assert refused.value.status_code == 400
    assert refused.value.description == "This payment has already been captured"


async def test_authorized_payment_captures_only_for_its_full_amount(
    live_server: LiveServer, gateway: RazorpayGateway
) -> None:
    order = await gateway.create_order(30000, receipt="pay_auth", notes={})
    answer = (await live_server.checkout(order.id, outcome="authorized")).json()
    payment_id = answer["razorpay_payment_id"]
    assert (await gateway.fetch_payment(payment_id)).status is GatewayPaymentStatus.AUTHORIZED

    with pytest.raises(GatewayError) as refused:
        await gateway.capture(payment_id, 29999)
    captured = await gateway.capture(payment_id, 30000)

    assert refused.value.field == "amount"
    assert captured.status is GatewayPaymentStatus.CAPTURED and captured.amount == 30000
    assert (await gateway.fetch_order(order.id)).status is GatewayOrderStatus.PAID


async def test_partial_refunds_up_to_the_captured_amount_and_not_a_paisa_more(
    live_server: LiveServer, gateway: RazorpayGateway
) -> None:
    _, answer = await _paid_order(live_server, gateway, amount=50000)
    payment_id = answer["razorpay_payment_id"]

    first = await gateway.refund(payment_id, 20000, "refund-key-0001", {"reason": "damaged"})
    with pytest.raises(GatewayError) as too_much:
        await gateway.refund(payment_id, 30001, "refund-key-0002", {})
    rest = await gateway.refund(payment_id, 30000, "refund-key-0003", {})
    with pytest.raises(GatewayError) as one_more:
        await gateway.refund(payment_id, 100, "refund-key-0004", {})
    payment = await gateway.fetch_payment(payment_id)

    assert first.status is GatewayRefundStatus.PROCESSED and first.amount == 20000
    assert first.payment_id == payment_id and first.notes["reason"] == "damaged"
    assert rest.amount == 30000
    assert too_much.value.description == (
        "The total refund amount is greater than the refund payment amount"
    )
    assert one_more.value.description == "The payment has been fully refunded already"
    assert payment.status is GatewayPaymentStatus.REFUNDED
    assert payment.amount_refunded == 50000 and payment.refundable == 0
    assert await gateway.fetch_refund(first.id) == first


async def test_refund_with_the_same_idempotency_key_returns_the_first_refund(
    live_server: LiveServer, gateway: RazorpayGateway
) -> None:
    _, answer = await _paid_order(live_server, gateway, amount=40000)
    payment_id = answer["razorpay_payment_id"]
    key = str(uuid.uuid4())

    first = await gateway.refund(payment_id, 10000, key, {"reason": "cancelled"})
    again = await gateway.refund(payment_id, 10000, key, {"reason": "cancelled"})
    # A key Razorpay would not accept as is is digested, still stable across retries.
    odd_key = "refund:order/42"
    third = await gateway.refund(payment_id, 5000, odd_key, {})
    third_again = await gateway.refund(payment_id, 5000, odd_key, {})

    assert again == first
    assert third_again == third and third.id != first.id
    assert (await gateway.fetch_payment(payment_id)).amount_refunded == 15000
    assert len(await gateway.fetch_payment_refunds(payment_id)) == 2


async def test_wrong_key_secret_is_refused_with_401(live_server: LiveServer) -> None:
    gateway = live_server.gateway(razorpay_key_secret="not-the-secret")

    with pytest.raises(GatewayError) as refused:
        await gateway.create_order(49900, receipt="pay_x", notes={})

    assert refused.value.status_code == 401
    assert refused.value.is_authentication_failure
    assert refused.value.description == "Authentication failed"


async def test_failed_checkout_gives_a_failed_payment(
    live_server: LiveServer, gateway: RazorpayGateway
) -> None:
    order = await gateway.create_order(49900, receipt="pay_fail", notes={})

    answer = await live_server.checkout(order.id, outcome="failure")

    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["code"], error["description"], error["reason"]) == (
        "BAD_REQUEST_ERROR", "Payment failed", "payment_failed"
    )
    assert error["metadata"]["order_id"] == order.id
    payment = await gateway.fetch_payment(error["metadata"]["payment_id"])
    assert payment.status is GatewayPaymentStatus.FAILED and not payment.captured
    assert payment.error_description == "Payment failed"
    assert (await gateway.fetch_order(order.id)).status is GatewayOrderStatus.ATTEMPTED
    # The buyer can try again and pay.
    assert (await live_server.checkout(order.id)).status_code == 200
    assert [p.status for p in await gateway.fetch_order_payments(order.id)] == [
        GatewayPaymentStatus.FAILED, GatewayPaymentStatus.CAPTURED
    ]


async def test_unknown_ids_are_razorpay_errors(gateway: RazorpayGateway) -> None:
    with pytest.raises(GatewayError) as refused:
        await gateway.fetch_payment("pay_doesnotexist00")

    assert refused.value.description == "The id provided does not exist"
    assert refused.value.status_code == 400


async def test_unreachable_gateway_is_unavailable(live_server: LiveServer) -> None:
    gateway = live_server.gateway(razorpay_base_url="http://127.0.0.1:9/sandbox/razorpay")

    with pytest.raises(GatewayUnavailable):
        await gateway.fetch_order("order_anything00000")


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
