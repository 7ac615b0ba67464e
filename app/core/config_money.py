"""Settings sections of the money paths: the payment gateway, escrow governance, payouts."""

import base64
from enum import StrEnum
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from app.core.config_sections import Section

DEFAULT_RAZORPAY_KEY_ID = "rzp_test_sandbox"
DEFAULT_RAZORPAY_KEY_SECRET = "sandbox-test-key-secret-not-for-production"
DEFAULT_RAZORPAY_WEBHOOK_SECRET = "sandbox-test-webhook-secret-not-for-production"


class PaymentGatewayKind(StrEnum):
    SANDBOX = "sandbox"
    RAZORPAY = "razorpay"


class PaymentSettings(Section):
    """The payment gateway; the sandbox (served by this app) unless PAYMENT_GATEWAY=razorpay."""

    gateway: PaymentGatewayKind = Field(
        default=PaymentGatewayKind.SANDBOX,
        validation_alias="PAYMENT_GATEWAY",
        description="`sandbox` (built-in, refused in production) or `razorpay`",
    )
    razorpay_key_id: str = Field(
        default=DEFAULT_RAZORPAY_KEY_ID,
        validation_alias="RAZORPAY_KEY_ID",
        description="Razorpay key id (shown to Checkout)",
    )
    razorpay_key_secret: SecretStr = Field(
        default=SecretStr(DEFAULT_RAZORPAY_KEY_SECRET),
        validation_alias="RAZORPAY_KEY_SECRET",
        description="Razorpay key secret (payment signatures, API auth)",
    )
    razorpay_webhook_secret: SecretStr = Field(
        default=SecretStr(DEFAULT_RAZORPAY_WEBHOOK_SECRET),
        validation_alias="RAZORPAY_WEBHOOK_SECRET",
        description="Razorpay webhook secret (webhook signatures)",
    )
    razorpay_base_url: str | None = Field(
        default=None,
        validation_alias="RAZORPAY_BASE_URL",
        description="Gateway API base (the SDK adds /v1); unset: the sandbox, or Razorpay",
    )
    webhook_url: str | None = Field(
        default=None,
        validation_alias="PAYMENT_WEBHOOK_URL",
        description="Where the sandbox delivers webhooks; unset: this app's /api/payments/webhook",
    )
    currency: str = Field(
        default="INR", validation_alias="PAYMENT_CURRENCY", description="Currency of every payment"
    )
    gateway_timeout_seconds: float = Field(
        default=15.0,
        validation_alias="PAYMENT_GATEWAY_TIMEOUT_SECONDS",
        description="Timeout of each gateway call",
    )
    webhook_max_body_bytes: int = Field(
        default=256 * 1024,
        ge=1024,
        validation_alias="PAYMENT_WEBHOOK_MAX_BODY_BYTES",
        description="Largest gateway webhook body accepted at /api/payments/webhook (413 above)",
    )
    webhook_alert_window_seconds: int = Field(
        default=600,
        ge=1,
        validation_alias="PAYMENT_WEBHOOK_ALERT_WINDOW_SECONDS",
        description="Webhooks with a bad signature are counted per window of this many seconds, "
        "into one alert per window (never one audit entry each)",
    )

    @property
    def uses_sandbox(self) -> bool:
        return self.gateway is PaymentGatewayKind.SANDBOX


class EscrowSettings(Section):
    """Escrow governance: approvals, windows and SLAs (money in paise)."""

    release_approval_threshold: int = Field(
        default=5_000_000,
        validation_alias="ESCROW_RELEASE_APPROVAL_THRESHOLD",
        description="Paise above which a release needs two finance admins",
    )
    dispute_window_days: float = Field(
        default=3,
        validation_alias="DISPUTE_WINDOW_DAYS",
        description="Days after delivery a buyer may dispute; escrow auto-releases after",
    )
    delivery_auto_confirm_days: float = Field(
        default=7,
        validation_alias="DELIVERY_AUTO_CONFIRM_DAYS",
        description="Days after shipping the system confirms delivery (reminder a day before)",
    )
    held_sla_days: float = Field(
        default=10,
        validation_alias="ESCROW_HELD_SLA_DAYS",
        description="Days escrow may stay held before admins are alerted",
    )
    payment_stuck_after_minutes: float = Field(
        default=120,
        validation_alias="PAYMENT_STUCK_AFTER_MINUTES",
        description="Minutes a payment may await capture before reconciliation and an alert",
    )
    payment_reservation_minutes: int = Field(
        default=30,
        validation_alias="PAYMENT_RESERVATION_MINUTES",
        description="How long starting a payment keeps the order's stock reserved",
    )
    job_interval_seconds: float = Field(
        default=60,
        validation_alias="ESCROW_JOB_INTERVAL_SECONDS",
        description="How often the escrow, SLA and delivery jobs run",
    )
    refund_reconcile_after_minutes: float = Field(
        default=15,
        validation_alias="REFUND_RECONCILE_AFTER_MINUTES",
        description="Minutes a refund may stay pending at the gateway before the SLA job asks "
        "the gateway for it (and again every as many minutes while it stays pending)",
    )
    payment_failed_reconcile_hours: float = Field(
        default=24,
        validation_alias="PAYMENT_FAILED_RECONCILE_HOURS",
        description="Hours after its creation a failed payment is still checked at the gateway "
        "for a later attempt that captured (Razorpay takes retries on an order until it is paid)",
    )
    reservation_reconcile_interval_seconds: float = Field(
        default=300,
        validation_alias="RESERVATION_RECONCILE_INTERVAL_SECONDS",
        description="How often reserved stock is recounted from the orders holding it (and at "
        "start-up); units no order holds are released",
    )
    reservation_reconcile_quiet_seconds: float = Field(
        default=300,
        validation_alias="RESERVATION_RECONCILE_QUIET_SECONDS",
        description="A product's stock is recounted only when no reservation or release touched "
        "it for this long: longer than any checkout takes from reserving to saving its order",
    )


DEFAULT_PAYOUT_ACCOUNT_KEY = "ZGV2LW9ubHktcGF5b3V0LWFjY291bnQta2V5LTMyYiE="  # dev/test only: published
DEFAULT_RAZORPAYX_ACCOUNT_NUMBER = "7878780080316316"  # RazorpayX's documentation sample
RAZORPAYX_API = "https://api.razorpay.com"


class PayoutProviderKind(StrEnum):
    SANDBOX = "sandbox"
    RAZORPAYX = "razorpayx"


class PayoutSettings(Section):
    """Payouts: the provider (RazorpayX, or this app's sandbox of it), the key that encrypts
    bank account numbers at rest, the scheduled batch and the reconciler (money in paise)."""

    provider: PayoutProviderKind = Field(
        default=PayoutProviderKind.SANDBOX, validation_alias="PAYOUT_PROVIDER",
        description="`sandbox` (this app's RazorpayX sandbox, refused in production) or `razorpayx`",
    )
    razorpayx_base_url: str | None = Field(
        default=None, validation_alias="RAZORPAYX_BASE_URL",
        description=f"RazorpayX API base (no /v1); unset: {RAZORPAYX_API}, or this app's sandbox",
    )
    razorpayx_account_number: str = Field(
        default=DEFAULT_RAZORPAYX_ACCOUNT_NUMBER, min_length=6, max_length=32,
        validation_alias="RAZORPAYX_ACCOUNT_NUMBER",
        description="RazorpayX business account payouts are drawn from (API keys: RAZORPAY_KEY_*)",
    )
    mode: Literal["IMPS", "NEFT", "RTGS"] = Field(
        default="IMPS", validation_alias="PAYOUT_MODE", description="Bank transfer mode of payouts"
    )
    timeout_seconds: float = Field(
        default=15.0, gt=0, validation_alias="RAZORPAYX_TIMEOUT_SECONDS",
        description="Timeout of each RazorpayX call (a timed-out payout stays processing)",
    )
    account_key: SecretStr = Field(
        default=SecretStr(DEFAULT_PAYOUT_ACCOUNT_KEY), validation_alias="PAYOUT_ACCOUNT_KEY",
        description="AES-256-GCM key sealing payout account numbers at rest: base64 of 32 random "
        "bytes (`openssl rand -base64 32`); production refuses the default",
    )
    batch_enabled: bool = Field(
        default=False, validation_alias="PAYOUT_BATCH_ENABLED", description="Run the scheduled payout batch"
    )
    batch_minimum: int = Field(
        default=100_000, ge=1, validation_alias="PAYOUT_BATCH_MINIMUM",
        description="Smallest payable balance (paise) the batch pays out",
    )
    batch_interval_seconds: float = Field(
        default=3600, gt=0, validation_alias="PAYOUT_BATCH_INTERVAL_SECONDS",
        description="How often the payout batch runs",
    )
    reconcile_interval_seconds: float = Field(
        default=300, gt=0, validation_alias="PAYOUT_RECONCILE_INTERVAL_SECONDS",
        description="How often unsettled payouts are resumed",
    )

    @field_validator("account_key")
    @classmethod
    def _aes_256_key(cls, value: SecretStr) -> SecretStr:
        try:
            raw = base64.b64decode(value.get_secret_value(), validate=True)
        except ValueError:
            raw = b""
        if len(raw) != 32:
            raise ValueError("PAYOUT_ACCOUNT_KEY must be base64 of 32 bytes")
        return value

    @property
    def uses_sandbox(self) -> bool:
        return self.provider is PayoutProviderKind.SANDBOX

    def production_problems(self) -> list[str]:
        """Why these settings would not move real money safely (empty: none)."""
        return [problem for problem, present in (
            ("PAYOUT_PROVIDER=razorpayx must be set in production", self.uses_sandbox),
            ("PAYOUT_ACCOUNT_KEY must be set in production",
             self.account_key.get_secret_value() == DEFAULT_PAYOUT_ACCOUNT_KEY),
            ("RAZORPAYX_ACCOUNT_NUMBER must be set in production",
             self.razorpayx_account_number == DEFAULT_RAZORPAYX_ACCOUNT_NUMBER),
        ) if present]
