"""Settings sections of the platform's own parts (database, auth, rate limits, orders, audit);
`app/core/config.py` composes them with the money sections into one `Settings`."""

import base64
import binascii
from enum import StrEnum

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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


class TechnicianSettings(Section):
    """Technicians' live location and the ranking of the nearby search."""

    location_fresh_seconds: int = Field(
        default=600,
        ge=1,
        validation_alias="LOCATION_FRESH_SECONDS",
        description="A technician's last accepted fix must be younger than this to go available "
        "and to appear in nearby search and matching (older: out of search, no job needed)",
    )
    location_max_speed_kmh: float = Field(
        default=150,
        gt=0,
        validation_alias="LOCATION_MAX_SPEED_KMH",
        description="Fastest plausible travel between two fixes (geodesic distance over the "
        "time between them); faster is refused as IMPOSSIBLE_SPEED, a spoofing flag",
    )
    rating_prior_mean: float = Field(
        default=4.0,
        ge=0,
        le=5,
        validation_alias="RATING_PRIOR_MEAN",
        description="Bayesian rating: the mean m of (prior weight × m + sum of ratings) / (prior "
        "weight + count) while the platform has no rating yet; after that m is the platform-wide "
        "mean of all ratings",
    )
    rating_prior_weight: float = Field(
        default=10,
        ge=0,
        validation_alias="RATING_PRIOR_WEIGHT",
        description="Bayesian rating: C, how many ratings at the platform-wide mean every "
        "technician's rating starts with (search and matching rank by the Bayesian rating)",
    )


def _base64_bytes(value: str) -> bytes:
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return b""
