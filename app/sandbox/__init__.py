"""The project's Razorpay-compatible sandbox (served in `PAYMENT_GATEWAY=sandbox` mode)."""

from typing import TYPE_CHECKING

from app.payments.gateway.factory import SANDBOX_PATH, webhook_url
from app.sandbox.razorpay import create_sandbox_app
from app.sandbox.store import MemorySandboxStore, SandboxStore

if TYPE_CHECKING:
    from fastapi import FastAPI

    from app.core.config import Settings


def sandbox_app_for(config: "Settings") -> "FastAPI":
    """The sandbox with the configured test keys and RazorpayX business account, delivering
    webhooks to PAYMENT_WEBHOOK_URL."""
    payments = config.payments
    return create_sandbox_app(
        payments.razorpay_key_id,
        payments.razorpay_key_secret.get_secret_value(),
        payments.razorpay_webhook_secret.get_secret_value(),
        webhook_url(config),
        currency=payments.currency,
        payout_account_number=config.payouts.razorpayx_account_number,
    )


__all__ = [
    "SANDBOX_PATH",
    "MemorySandboxStore",
    "SandboxStore",
    "create_sandbox_app",
    "sandbox_app_for",
]
