"""Razorpay's HMAC-SHA256 signatures: the Checkout payment signature and the webhook signature."""

import hashlib
import hmac


def payment_signature(gateway_order_id: str, gateway_payment_id: str, key_secret: str) -> str:
    """What Checkout hands the buyer: hex HMAC-SHA256 of `order_id|payment_id` with the key secret."""
    message = f"{gateway_order_id}|{gateway_payment_id}".encode()
    return hmac.new(key_secret.encode(), message, hashlib.sha256).hexdigest()


def webhook_signature(raw_body: bytes, webhook_secret: str) -> str:
    """`X-Razorpay-Signature`: hex HMAC-SHA256 of the exact raw request body with the webhook secret."""
    return hmac.new(webhook_secret.encode(), raw_body, hashlib.sha256).hexdigest()


def signatures_match(expected: str, received: object) -> bool:
    """Constant-time comparison that treats anything but a hex string as a mismatch."""
    if not isinstance(received, str) or not received.isascii():
        return False
    return hmac.compare_digest(expected.encode(), received.encode())


def verify_payment_signature(
    gateway_order_id: str, gateway_payment_id: str, signature: object, key_secret: str
) -> bool:
    expected = payment_signature(gateway_order_id, gateway_payment_id, key_secret)
    return signatures_match(expected, signature)


def verify_webhook_signature(raw_body: bytes, signature: object, webhook_secret: str) -> bool:
    return signatures_match(webhook_signature(raw_body, webhook_secret), signature)
