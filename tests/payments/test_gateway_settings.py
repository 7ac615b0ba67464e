"""Gateway settings: derived sandbox URLs, the SDK base URL, and production refusals."""


import pytest
from pydantic import SecretStr, ValidationError

from app.core.config import (
    PaymentGatewayKind,
    PaymentSettings,
    Settings,
)
from app.payments.gateway import (
    GatewayError,
    create_gateway,
    gateway_base_url,
    parse_webhook_event,
    webhook_url,
)
from app.payments.gateway.razorpay_gateway import refund_idempotency_key, sdk_base_url
from app.payments.gateway.signatures import payment_signature, webhook_signature
from tests.production import production_settings

STRONG = "kq3V9yT2mZ8pL4wX7cR1nB6hJ0fD5sGaE_uQ-iYoPzWx"


def _production(**payments: object) -> Settings:
    return production_settings(payments=PaymentSettings(**payments))


def test_sandbox_urls_follow_host_and_port() -> None:
    config = Settings(host="0.0.0.0", port=8123)

    assert gateway_base_url(config) == "http://127.0.0.1:8123/sandbox/razorpay"
    assert webhook_url(config) == "http://127.0.0.1:8123/api/payments/webhook"
    assert create_gateway(config).base_url == "http://127.0.0.1:8123/sandbox/razorpay"


def test_real_gateway_uses_razorpay_unless_a_base_url_is_set() -> None:
    real = Settings(payments=PaymentSettings(gateway=PaymentGatewayKind.RAZORPAY))
    proxied = Settings(payments=PaymentSettings(
        gateway=PaymentGatewayKind.RAZORPAY, razorpay_base_url="https://rzp.internal/v1/"
    ))

    assert gateway_base_url(real) is None and create_gateway(real).base_url is None
    assert create_gateway(proxied).base_url == "https://rzp.internal"


def test_sdk_base_url_drops_the_version_the_sdk_appends_itself() -> None:
    assert sdk_base_url("http://127.0.0.1:8000/sandbox/razorpay/v1") == "http://127.0.0.1:8000/sandbox/razorpay"
    assert sdk_base_url("https://api.razorpay.com/") == "https://api.razorpay.com"
    assert sdk_base_url(None) is None


def test_production_refuses_the_sandbox_and_test_secrets() -> None:
    real_keys = {
        "gateway": PaymentGatewayKind.RAZORPAY, "razorpay_key_id": "rzp_live_abc",
        "razorpay_key_secret": SecretStr("live-secret"), "razorpay_webhook_secret": SecretStr("hook"),
    }
    with pytest.raises(ValidationError, match="PAYMENT_GATEWAY"):
        _production(**{**real_keys, "gateway": PaymentGatewayKind.SANDBOX})
    with pytest.raises(ValidationError, match="RAZORPAY_KEY_SECRET"):
        _production(**{k: v for k, v in real_keys.items() if k != "razorpay_key_secret"})
    with pytest.raises(ValidationError, match="RAZORPAY_WEBHOOK_SECRET"):
        _production(**{k: v for k, v in real_keys.items() if k != "razorpay_webhook_secret"})
    with pytest.raises(ValidationError, match="RAZORPAY_KEY_ID"):
        _production(**{k: v for k, v in real_keys.items() if k != "razorpay_key_id"})
    assert _production(**real_keys).payments.gateway is PaymentGatewayKind.RAZORPAY


def test_gateway_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYMENT_GATEWAY", "razorpay")
    monkeypatch.setenv("RAZORPAY_KEY_SECRET", "from-env")
    monkeypatch.setenv("PAYMENT_WEBHOOK_URL", "http://example.test/hook")

    payments = Settings().payments

    assert payments.gateway is PaymentGatewayKind.RAZORPAY and not payments.uses_sandbox
    assert payments.razorpay_key_secret.get_secret_value() == "from-env"
    assert "from-env" not in repr(payments)
    assert payments.webhook_url == "http://example.test/hook"


def test_signatures_are_razorpay_hmac_sha256() -> None:
    # Reference values computed independently (RFC 2104 HMAC-SHA256, hex).
    import hashlib
    import hmac

    assert payment_signature("order_A", "pay_B", "s") == hmac.new(
        b"s", b"order_A|pay_B", hashlib.sha256
    ).hexdigest()
    assert webhook_signature(b'{"a":1}', "w") == hmac.new(b"w", b'{"a":1}', hashlib.sha256).hexdigest()


def test_refund_idempotency_keys_razorpay_would_refuse_are_digested_stably() -> None:
    assert refund_idempotency_key("550e8400-e29b-41d4-a716-446655440000") == (
        "550e8400-e29b-41d4-a716-446655440000"
    )
    digested = refund_idempotency_key("short")
    assert digested == refund_idempotency_key("short") and len(digested) == 64


def test_a_body_that_is_not_a_razorpay_event_is_refused() -> None:
    with pytest.raises(GatewayError):
        parse_webhook_event(b"not json", "evt_1")
    with pytest.raises(GatewayError):
        parse_webhook_event(b'{"entity": "payment"}', "evt_1")
    event = parse_webhook_event(b'{"entity": "event", "event": "order.paid", "payload": {}}', "evt_2")
    assert (event.event_id, event.event, event.payment, event.refund) == ("evt_2", "order.paid", None, None)
