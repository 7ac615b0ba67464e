"""Settings: every value comes from an environment variable, with safe embedded defaults."""

import base64
import binascii
from enum import StrEnum
from functools import lru_cache
from ipaddress import ip_network
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.core.secrets_policy import PUBLISHED_SECRETS, weakness
from app.core.validators import check_password_strength

DEFAULT_JWT_SECRET = "dev-only-insecure-jwt-secret-change-me-0123456789"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Section(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, env_ignore_empty=True)


class DatabaseSettings(Section):
    mongodb_url: str | None = Field(
        default=None,
        validation_alias="MONGODB_URL",
        description="MongoDB URL; unset: `make run` starts the embedded SecantusDB",
    )
    mongodb_db: str = Field(
        default="parts_platform", validation_alias="MONGODB_DB", description="Database name"
    )
    embedded_db_path: str = Field(
        default="var/db",
        validation_alias="EMBEDDED_DB_PATH",
        description="Data directory of the embedded database",
    )
    embedded_db_port: int = Field(
        default=0,
        validation_alias="EMBEDDED_DB_PORT",
        description="Port of the embedded database (0: any free port)",
    )
    embedded_db_restart_backoff_seconds: float = Field(
        default=0.5,
        gt=0,
        validation_alias="EMBEDDED_DB_RESTART_BACKOFF_SECONDS",
        description="Wait before restarting a dead embedded database; doubles with each "
                    "death within a minute, up to 10 s",
    )


class AuthSettings(Section):
    # A refused BOOTSTRAP_ADMIN_PASSWORD must not be echoed into the start-up error.
    model_config = SettingsConfigDict(
        extra="ignore", populate_by_name=True, env_ignore_empty=True, hide_input_in_errors=True
    )

    jwt_secret: SecretStr = Field(
        default=SecretStr(DEFAULT_JWT_SECRET),
        validation_alias="JWT_SECRET",
        description="HS256 key for access tokens; production: 32+ random bytes (`openssl rand -base64 48`)",
    )
    access_token_ttl_seconds: int = Field(
        default=900, validation_alias="ACCESS_TOKEN_TTL_SECONDS", description="Access-token lifetime"
    )
    refresh_token_ttl_days: int = Field(
        default=30, validation_alias="REFRESH_TOKEN_TTL_DAYS", description="Refresh-token lifetime"
    )
    max_sessions_per_account: int = Field(
        default=20,
        ge=1,
        le=100,
        validation_alias="MAX_SESSIONS_PER_ACCOUNT",
        description="Live sign-in sessions an account may hold; a new sign-in past it ends the oldest",
    )
    login_max_failures_per_account_ip: int = Field(
        default=5,
        ge=1,
        validation_alias="LOGIN_MAX_FAILURES_PER_ACCOUNT_IP",
        description="Wrong passwords for one email from one IP before that pair is throttled "
        "(429); also the most password checks of that pair in flight at once",
    )
    login_max_failures_per_ip: int = Field(
        default=50,
        ge=1,
        validation_alias="LOGIN_MAX_FAILURES_PER_IP",
        description="Wrong passwords from one IP, over all emails, before that IP's sign-ins "
        "are throttled (429)",
    )
    login_backoff_base_seconds: int = Field(
        default=30,
        ge=1,
        validation_alias="LOGIN_BACKOFF_BASE_SECONDS",
        description="First throttle of a pair or IP; each further wrong password doubles it",
    )
    login_backoff_max_seconds: int = Field(
        default=900,
        ge=1,
        validation_alias="LOGIN_BACKOFF_MAX_SECONDS",
        description="Longest throttle (the cap of the doubling)",
    )
    login_failure_memory_seconds: int = Field(
        default=86_400,
        ge=60,
        validation_alias="LOGIN_FAILURE_MEMORY_SECONDS",
        description="Failures of a pair or IP are forgotten this long after the last one",
    )
    bootstrap_admin_email: str | None = Field(
        default=None,
        validation_alias="BOOTSTRAP_ADMIN_EMAIL",
        description="First superadmin, created at start-up while no admin exists",
    )
    bootstrap_admin_password: SecretStr | None = Field(
        default=None,
        validation_alias="BOOTSTRAP_ADMIN_PASSWORD",
        description="Its password; must pass the signup password policy (else no start)",
    )

    @field_validator("bootstrap_admin_password")
    @classmethod
    def _strong_bootstrap_password(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            check_password_strength(value.get_secret_value())
        return value


class RateLimitSettings(Section):
    """Requests per minute for each caller class."""

    model_config = SettingsConfigDict(
        env_prefix="RATE_LIMIT_", extra="ignore", populate_by_name=True, env_ignore_empty=True
    )

    enabled: bool = Field(
        default=True,
        validation_alias="RATE_LIMITS_ENABLED",
        description="Turn rate limiting off for load tests",
    )
    public: int = Field(default=10, description="Auth routes, per IP, requests per minute")
    customer: int = Field(
        default=60, description="Customers (and anonymous callers, per IP), requests per minute"
    )
    dealer: int = Field(default=120, description="Dealers, requests per minute")
    technician: int = Field(default=30, description="Technicians, requests per minute")
    admin: int = Field(default=300, description="Admins, requests per minute")
    block_after_violations: int = Field(
        default=5,
        validation_alias="IP_BLOCK_AFTER_VIOLATIONS",
        description="Rate-limited responses that get an IP blocked",
    )
    violation_window_seconds: int = Field(
        default=600, validation_alias="IP_BLOCK_WINDOW_SECONDS", description="Window in which those count"
    )
    block_seconds: int = Field(
        default=900, validation_alias="IP_BLOCK_SECONDS", description="How long a blocked IP is refused (403)"
    )


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


class OrderSettings(Section):
    """Limits on unpaid orders: how long their stock stays reserved, how many a buyer holds."""

    reservation_max_minutes: int = Field(
        default=45,
        ge=1,
        validation_alias="ORDER_RESERVATION_MAX_MINUTES",
        description="Minutes after an order's creation beyond which its stock reservation is "
        "never extended (asking to pay again does not extend it past this)",
    )
    max_unpaid_per_customer: int = Field(
        default=5,
        ge=1,
        validation_alias="MAX_UNPAID_ORDERS_PER_CUSTOMER",
        description="Unpaid orders a customer may hold at once; one more is refused (422, "
        "ruleFlag TOO_MANY_UNPAID_ORDERS)",
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


class AuditSettings(Section):
    """The audit trail: signed checkpoints of the chain head, pseudonymous identifiers."""

    signing_key: SecretStr | None = Field(
        default=None,
        validation_alias="AUDIT_SIGNING_KEY",
        description="Base64 of the 32-byte raw Ed25519 private key that signs audit checkpoints "
        "(`openssl rand -base64 32`); required in production, generated into "
        "AUDIT_SIGNING_KEY_FILE in development and test",
    )
    signing_key_file: str = Field(
        default="var/audit/signing.key",
        validation_alias="AUDIT_SIGNING_KEY_FILE",
        description="Where development and test keep their generated signing key (0600) while "
        "AUDIT_SIGNING_KEY is unset",
    )
    checkpoint_file: str = Field(
        default="var/audit/checkpoints.jsonl",
        validation_alias="AUDIT_CHECKPOINT_FILE",
        description="Append-only file of signed checkpoints (one JSON line each), kept outside "
        "the database",
    )
    checkpoint_interval_seconds: float = Field(
        default=60,
        gt=0,
        validation_alias="AUDIT_CHECKPOINT_INTERVAL_SECONDS",
        description="How often the audit chain head is signed and checkpointed",
    )
    identifier_key: SecretStr | None = Field(
        default=None,
        validation_alias="AUDIT_IDENTIFIER_KEY",
        description="HMAC-SHA256 key that pseudonymises the emails of unknown sign-ins in the "
        "audit trail; unset: derived from JWT_SECRET",
    )

    @field_validator("signing_key")
    @classmethod
    def _raw_ed25519_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(_base64_bytes(value.get_secret_value())) != 32:
            raise ValueError("AUDIT_SIGNING_KEY must be base64 of a 32-byte Ed25519 private key")
        return value


def _base64_bytes(value: str) -> bytes:
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return b""


class Settings(Section):
    app_env: Environment = Field(
        default=Environment.DEVELOPMENT,
        validation_alias="APP_ENV",
        description="`development`, `test` or `production` (refuses default secrets)",
    )
    host: str = Field(default="127.0.0.1", validation_alias="HOST", description="Address the API listens on")
    port: int = Field(default=8000, validation_alias="PORT", description="Port the API listens on")
    log_level: str = Field(
        default="INFO", validation_alias="LOG_LEVEL", description="Log level of the JSON logs"
    )
    redis_url: str | None = Field(
        default=None,
        validation_alias="REDIS_URL",
        description="Redis for shared rate limits and Socket.IO fan-out; unset: in-process memory",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        validation_alias="CORS_ORIGINS",
        description="JSON list of browser origins allowed (API and Socket.IO)",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        validation_alias="TRUSTED_PROXIES",
        description="Comma-separated addresses/CIDRs of your reverse proxies; X-Forwarded-For "
        "is read only from them (empty: never)",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        validation_alias="MAX_BODY_BYTES",
        description="Largest request body accepted (413 above); uploads and webhooks have their own",
    )
    background_tasks_enabled: bool = Field(
        default=True,
        validation_alias="BACKGROUND_TASKS_ENABLED",
        description="Run the background jobs in this process",
    )
    job_run_journal: bool = Field(
        default=False,
        validation_alias="JOB_RUN_JOURNAL",
        description="Record each background job run (job, instance, start, end) in `job_runs` "
        "for a day, to see which instance ran what",
    )

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)
    payments: PaymentSettings = Field(default_factory=PaymentSettings)
    escrow: EscrowSettings = Field(default_factory=EscrowSettings)
    orders: OrderSettings = Field(default_factory=OrderSettings)
    payouts: PayoutSettings = Field(default_factory=PayoutSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_proxies(cls, value: list[str]) -> list[str]:
        for proxy in value:
            ip_network(proxy, strict=False)
        return value

    @model_validator(mode="after")
    def refuse_default_secrets_in_production(self) -> "Settings":
        if self.app_env is Environment.PRODUCTION:
            if problem := weakness(self.auth.jwt_secret.get_secret_value()):
                raise ValueError(f"JWT_SECRET {problem}")
            if not self.database.mongodb_url:
                raise ValueError("MONGODB_URL must be set in production")
            if self.payments.uses_sandbox:
                raise ValueError("PAYMENT_GATEWAY=razorpay must be set in production")
            for problem in self.payouts.production_problems():
                raise ValueError(problem)
            # Razorpay issues its own keys: only published placeholders are refused.
            for name, value in (
                ("RAZORPAY_KEY_SECRET", self.payments.razorpay_key_secret.get_secret_value()),
                ("RAZORPAY_WEBHOOK_SECRET", self.payments.razorpay_webhook_secret.get_secret_value()),
                ("RAZORPAY_KEY_ID", self.payments.razorpay_key_id),
            ):
                if value in PUBLISHED_SECRETS or not value:
                    raise ValueError(f"{name} must be set in production")
            if self.audit.signing_key is None:
                raise ValueError("AUDIT_SIGNING_KEY must be set in production")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()


_active: Settings | None = None


def use_settings(settings: Settings) -> None:
    """Make `settings` the ones the running app reads (set by create_app)."""
    global _active
    _active = settings


def settings() -> Settings:
    return _active or get_settings()
