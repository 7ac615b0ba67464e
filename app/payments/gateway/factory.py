"""The gateway the settings ask for, and the URLs derived from HOST/PORT in sandbox mode."""

from app.core.config import Settings
from app.payments.gateway.razorpay_gateway import RazorpayGateway

SANDBOX_PATH = "/sandbox/razorpay"
WEBHOOK_PATH = "/api/payments/webhook"


def _own_origin(config: Settings) -> str:
    host = config.host
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{config.port}"


def sandbox_url(config: Settings) -> str:
    """Where this app serves its Razorpay sandbox (gateway and payouts alike)."""
    return f"{_own_origin(config)}{SANDBOX_PATH}"


def gateway_base_url(config: Settings) -> str | None:
    """RAZORPAY_BASE_URL; unset: the sandbox this app serves, or Razorpay's API (None)."""
    payments = config.payments
    if payments.razorpay_base_url:
        return payments.razorpay_base_url
    return sandbox_url(config) if payments.uses_sandbox else None


def webhook_url(config: Settings) -> str:
    """PAYMENT_WEBHOOK_URL; unset: this app's own webhook route."""
    return config.payments.webhook_url or f"{_own_origin(config)}{WEBHOOK_PATH}"


def create_gateway(config: Settings) -> RazorpayGateway:
    payments = config.payments
    return RazorpayGateway(
        payments.razorpay_key_id,
        payments.razorpay_key_secret.get_secret_value(),
        payments.razorpay_webhook_secret.get_secret_value(),
        base_url=gateway_base_url(config),
        currency=payments.currency,
        timeout=payments.gateway_timeout_seconds,
    )
