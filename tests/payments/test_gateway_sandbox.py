"""The Razorpay gateway (the official SDK) against the project's sandbox, over real loopback
HTTP. The sandbox's own webhooks are tested in tests/sandbox/test_webhooks.py."""

import uuid

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
)
from tests.live import LiveServer, WebhookReceiver, with_payment_settings
from tests.sandbox.factories import paid_order as _paid_order


@pytest.fixture
def config(config: Settings, webhook_receiver: WebhookReceiver) -> Settings:
    return with_payment_settings(config, webhook_url=webhook_receiver.url)


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
