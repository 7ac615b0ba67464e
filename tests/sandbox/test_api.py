"""The sandbox answers like Razorpay: auth, validation and error object (driven in-process)."""

import base64
from typing import Any

import httpx
import pytest

from app.core.config import PaymentGatewayKind, PayoutProviderKind, Settings
from app.main import create_app
from app.payments.gateway import SANDBOX_PATH
from tests.live import LiveServer, with_payment_settings
from tests.sandbox.factories import KEY_ID
from tests.sandbox.factories import error as _error
from tests.sandbox.factories import order as _order


async def test_order_has_razorpay_shape(sandbox: httpx.AsyncClient) -> None:
    order = await _order(sandbox, 49900)

    assert order["entity"] == "order" and order["id"].startswith("order_")
    assert (order["amount"], order["amount_paid"], order["amount_due"]) == (49900, 0, 49900)
    assert (order["status"], order["attempts"], order["notes"]) == ("created", 0, [])
    assert isinstance(order["created_at"], int)
    assert not any(key.startswith("_") for key in order)


async def test_missing_or_wrong_credentials_are_401(sandbox: httpx.AsyncClient) -> None:
    without = await sandbox.get("/v1/orders/order_x", headers={"Authorization": ""})
    wrong_auth = "Basic " + base64.b64encode(f"{KEY_ID}:nope".encode()).decode()
    wrong = await sandbox.get("/v1/orders/order_x", headers={"Authorization": wrong_auth})
    garbage = await sandbox.get("/v1/orders/order_x", headers={"Authorization": "Basic %%%"})

    assert [without.status_code, wrong.status_code, garbage.status_code] == [401, 401, 401]
    assert _error(without)["description"].startswith("Please provide your api key")
    assert _error(wrong) == {
        "code": "BAD_REQUEST_ERROR", "description": "Authentication failed", "source": "NA",
        "step": "NA", "reason": "NA", "metadata": {},
    }
    assert _error(garbage)["code"] == "BAD_REQUEST_ERROR"


@pytest.mark.parametrize(
    ("body", "field", "description"),
    [
        ({"currency": "INR"}, "amount", "The amount field is required."),
        ({"amount": 99, "currency": "INR"}, "amount", "The amount must be atleast INR 1.00"),
        ({"amount": 100.5, "currency": "INR"}, "amount", "The amount must be an integer."),
        ({"amount": True, "currency": "INR"}, "amount", "The amount must be an integer."),
        ({"amount": 1000, "currency": "USD"}, "currency", "The selected currency is invalid."),
        ({"amount": 1000}, "currency", "The currency field is required."),
        ({"amount": 1000, "currency": "INR", "receipt": "r" * 41}, "receipt",
         "The receipt may not be greater than 40 characters."),
        ({"amount": 1000, "currency": "INR", "colour": "red"}, "colour",
         "colour is/are not required and should not be sent"),
        ({"amount": 1000, "currency": "INR", "notes": {str(i): "x" for i in range(16)}}, "notes",
         "Number of fields in notes should be less than or equal to 15"),
    ],
)
async def test_invalid_order_is_a_bad_request(
    sandbox: httpx.AsyncClient, body: dict[str, Any], field: str, description: str
) -> None:
    answer = await sandbox.post("/v1/orders", json=body)

    assert answer.status_code == 400
    error = _error(answer)
    assert (error["code"], error["field"], error["description"]) == (
        "BAD_REQUEST_ERROR", field, description
    )
    assert error["reason"] == "input_validation_failed"


async def test_malformed_json_and_unknown_routes_use_the_error_object(
    sandbox: httpx.AsyncClient,
) -> None:
    malformed = await sandbox.post(
        "/v1/orders", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    unknown = await sandbox.get("/v1/nothing-here")
    unknown_id = await sandbox.get("/v1/payments/pay_missing")

    assert malformed.status_code == 400 and _error(malformed)["code"] == "BAD_REQUEST_ERROR"
    assert unknown.status_code == 404
    assert _error(unknown)["description"] == "The requested URL was not found on the server."
    assert unknown_id.status_code == 400
    assert _error(unknown_id)["description"] == "The id provided does not exist"


async def test_checkout_refuses_a_paid_order_and_a_bad_outcome(sandbox: httpx.AsyncClient) -> None:
    order = await _order(sandbox)
    paid = await sandbox.post(f"/checkout/{order['id']}", json={"outcome": "success"})

    again = await sandbox.post(f"/checkout/{order['id']}", json={"outcome": "success"})
    odd = await sandbox.post(f"/checkout/{order['id']}", json={"outcome": "maybe"})
    extra = await sandbox.post(f"/checkout/{order['id']}", json={"outcome": "success", "tip": 1})
    missing = await sandbox.post("/checkout/order_missing", json={"outcome": "success"})

    assert paid.status_code == 200
    assert set(paid.json()) == {"razorpay_order_id", "razorpay_payment_id", "razorpay_signature"}
    assert again.status_code == 400 and _error(again)["description"] == "Order has already been paid"
    assert odd.status_code == 400 and _error(odd)["field"] == "outcome"
    assert extra.status_code == 400 and _error(extra)["field"] == "tip"
    assert missing.status_code == 400


async def test_captured_payment_has_razorpay_shape(sandbox: httpx.AsyncClient) -> None:
    order = await _order(sandbox, 100000)
    paid = (await sandbox.post(f"/checkout/{order['id']}", json={"outcome": "success"})).json()

    payment = (await sandbox.get(f"/v1/payments/{paid['razorpay_payment_id']}")).json()
    payments = (await sandbox.get(f"/v1/orders/{order['id']}/payments")).json()

    assert payment["entity"] == "payment" and payment["id"].startswith("pay_")
    assert (payment["status"], payment["captured"], payment["order_id"]) == (
        "captured", True, order["id"]
    )
    assert (payment["amount_refunded"], payment["refund_status"], payment["error_code"]) == (
        0, None, None
    )
    assert payment["fee"] == 2360 and payment["tax"] == 360
    assert payments == {"entity": "collection", "count": 1, "items": [payment]}


async def test_refund_idempotency_header_dedupes_and_refuses_a_different_body(
    sandbox: httpx.AsyncClient,
) -> None:
    order = await _order(sandbox, 50000)
    paid = (await sandbox.post(f"/checkout/{order['id']}", json={"outcome": "success"})).json()
    url = f"/v1/payments/{paid['razorpay_payment_id']}/refund"
    key = {"X-Refund-Idempotency": "same-key-123"}

    first = await sandbox.post(url, json={"amount": 10000}, headers=key)
    retry = await sandbox.post(url, json={"amount": 10000}, headers=key)
    different = await sandbox.post(url, json={"amount": 20000}, headers=key)
    short_key = await sandbox.post(url, json={"amount": 100}, headers={"X-Refund-Idempotency": "abc"})
    refunds = (await sandbox.get(f"/v1/payments/{paid['razorpay_payment_id']}/refunds")).json()

    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert first.json()["entity"] == "refund" and first.json()["id"].startswith("rfnd_")
    assert different.status_code == 400 and short_key.status_code == 400
    assert refunds["count"] == 1
    one = await sandbox.get(f"/v1/payments/{paid['razorpay_payment_id']}/refunds/{first.json()['id']}")
    assert one.json() == first.json()


async def test_full_refund_by_default_and_uncaptured_payments_are_not_refundable(
    sandbox: httpx.AsyncClient,
) -> None:
    order = await _order(sandbox, 25000)
    paid = (await sandbox.post(f"/checkout/{order['id']}", json={"outcome": "authorized"})).json()
    url = f"/v1/payments/{paid['razorpay_payment_id']}"

    uncaptured = await sandbox.post(f"{url}/refund", json={})
    wrong_currency = await sandbox.post(f"{url}/capture", json={"amount": 25000, "currency": "USD"})
    captured = await sandbox.post(f"{url}/capture", json={"amount": 25000, "currency": "INR"})
    full = await sandbox.post(f"{url}/refund", json={})

    assert uncaptured.status_code == 400
    assert _error(uncaptured)["description"] == "Only captured payments can be refunded"
    assert wrong_currency.status_code == 400
    assert captured.json()["status"] == "captured"
    assert full.json()["amount"] == 25000 and full.json()["status"] == "processed"
    payment = (await sandbox.get(url)).json()
    assert (payment["status"], payment["refund_status"], payment["amount_refunded"]) == (
        "refunded", "full", 25000
    )


async def test_events_are_recorded_even_when_delivery_is_off(sandbox: httpx.AsyncClient) -> None:
    order = await _order(sandbox)
    await sandbox.post(f"/checkout/{order['id']}", json={"outcome": "failure"})

    events = (await sandbox.get("/webhooks")).json()
    unknown = await sandbox.post("/webhooks/send", json={"event": "payment.exploded", "paymentId": "x"})

    assert [event["event"] for event in events] == ["payment.failed"]
    assert events[0]["deliveries"] == []
    assert events[0]["body"]["payload"]["payment"]["entity"]["status"] == "failed"
    assert unknown.status_code == 400


async def test_platform_serves_the_sandbox_in_sandbox_mode(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.base_url) as http:
        unauthenticated = await http.get(f"{SANDBOX_PATH}/v1/orders/order_x")
        docs = await http.get(f"{SANDBOX_PATH}/openapi.json")

    assert unauthenticated.status_code == 401
    assert _error(unauthenticated)["code"] == "BAD_REQUEST_ERROR"
    assert "/checkout/{gatewayOrderId}" in docs.json()["paths"]


def _mounts_sandbox(config: Settings) -> bool:
    return any(getattr(route, "path", None) == SANDBOX_PATH for route in create_app(config).fastapi.routes)


def test_platform_mounts_the_sandbox_only_while_payments_or_payouts_use_it(config: Settings) -> None:
    real_gateway = with_payment_settings(config, gateway=PaymentGatewayKind.RAZORPAY)
    real_both = real_gateway.model_copy(update={"payouts": real_gateway.payouts.model_copy(
        update={"provider": PayoutProviderKind.RAZORPAYX})})

    assert _mounts_sandbox(config)
    assert _mounts_sandbox(real_gateway)  # payouts still go to the sandbox's RazorpayX
    assert not _mounts_sandbox(real_both)
