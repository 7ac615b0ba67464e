"""Settings: every value comes from an environment variable, with safe embedded defaults.

One `Settings` composed of small sections (`app/core/config_sections.py`,
`app/core/config_money.py`), re-exported here so callers import every name from one place.
"""

from functools import lru_cache
from ipaddress import ip_network
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from app.core.config_money import (
    DEFAULT_PAYOUT_ACCOUNT_KEY,
    DEFAULT_RAZORPAY_KEY_ID,
    DEFAULT_RAZORPAY_KEY_SECRET,
    DEFAULT_RAZORPAY_WEBHOOK_SECRET,
    DEFAULT_RAZORPAYX_ACCOUNT_NUMBER,
    RAZORPAYX_API,
    EscrowSettings,
    PaymentGatewayKind,
    PaymentSettings,
    PayoutProviderKind,
    PayoutSettings,
)
from app.core.config_realtime import CallSettings, ChatSettings, MediaSettings, RealtimeSettings
from app.core.config_repairs import ConsentSettings, RatingSettings, RepairSettings
from app.core.config_risk import RiskSettings
from app.core.config_sections import (
    DEFAULT_JWT_SECRET,
    AuditSettings,
    AuthSettings,
    DatabaseSettings,
    Environment,
    OrderSettings,
    RateLimitSettings,
    Section,
    TechnicianSettings,
)
from app.core.secrets_policy import PUBLISHED_SECRETS, weakness

__all__ = [
    "DEFAULT_JWT_SECRET", "DEFAULT_PAYOUT_ACCOUNT_KEY", "DEFAULT_RAZORPAYX_ACCOUNT_NUMBER",
    "DEFAULT_RAZORPAY_KEY_ID", "DEFAULT_RAZORPAY_KEY_SECRET", "DEFAULT_RAZORPAY_WEBHOOK_SECRET",
    "RAZORPAYX_API", "AuditSettings", "AuthSettings", "DatabaseSettings", "Environment",
    "EscrowSettings", "OrderSettings", "PaymentGatewayKind", "PaymentSettings",
    "PayoutProviderKind", "PayoutSettings", "RateLimitSettings", "Settings", "get_settings",
    "settings", "use_settings", "TechnicianSettings", "RepairSettings", "RatingSettings", "RiskSettings",
]

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
    metrics_enabled: bool = Field(
        default=True,
        validation_alias="METRICS_ENABLED",
        description="Serve Prometheus metrics at `/metrics`",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        validation_alias="METRICS_TOKEN",
        description="When set, `/metrics` requires `Authorization: Bearer <METRICS_TOKEN>` "
        "(required in production while metrics are on)",
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
    technicians: TechnicianSettings = Field(default_factory=TechnicianSettings)
    repairs: RepairSettings = Field(default_factory=RepairSettings)
    ratings: RatingSettings = Field(default_factory=RatingSettings)
    consent: ConsentSettings = Field(default_factory=ConsentSettings)
    realtime: RealtimeSettings = Field(default_factory=RealtimeSettings)
    chat: ChatSettings = Field(default_factory=ChatSettings)
    media: MediaSettings = Field(default_factory=MediaSettings)
    calls: CallSettings = Field(default_factory=CallSettings)
    risk: RiskSettings = Field(default_factory=RiskSettings)

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
            for problem in (*self.payouts.production_problems(), *self.calls.production_problems()):
                raise ValueError(problem)
            for problem in self.repairs.production_problems():
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
            if self.metrics_enabled:
                token = self.metrics_token.get_secret_value() if self.metrics_token else ""
                if problem := weakness(token):
                    raise ValueError(f"METRICS_TOKEN {problem} (or set METRICS_ENABLED=false)")
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
