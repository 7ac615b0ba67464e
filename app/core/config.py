"""Settings: every value comes from an environment variable, with safe embedded defaults."""

from enum import StrEnum
from functools import lru_cache

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_JWT_SECRET = "dev-only-insecure-jwt-secret-change-me-0123456789"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Section(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)


class DatabaseSettings(Section):
    mongodb_url: str | None = Field(default=None, validation_alias="MONGODB_URL")
    mongodb_db: str = Field(default="parts_platform", validation_alias="MONGODB_DB")
    embedded_db_path: str = Field(default="var/db", validation_alias="EMBEDDED_DB_PATH")
    embedded_db_port: int = Field(default=0, validation_alias="EMBEDDED_DB_PORT")


class AuthSettings(Section):
    jwt_secret: SecretStr = Field(
        default=SecretStr(DEFAULT_JWT_SECRET), validation_alias="JWT_SECRET"
    )
    access_token_ttl_seconds: int = Field(default=900, validation_alias="ACCESS_TOKEN_TTL_SECONDS")
    refresh_token_ttl_days: int = Field(default=30, validation_alias="REFRESH_TOKEN_TTL_DAYS")
    login_max_failures: int = Field(default=5, validation_alias="LOGIN_MAX_FAILURES")
    login_failure_window_seconds: int = Field(
        default=900, validation_alias="LOGIN_FAILURE_WINDOW_SECONDS"
    )
    login_lockout_seconds: int = Field(default=900, validation_alias="LOGIN_LOCKOUT_SECONDS")
    bootstrap_admin_email: str | None = Field(default=None, validation_alias="BOOTSTRAP_ADMIN_EMAIL")
    bootstrap_admin_password: SecretStr | None = Field(
        default=None, validation_alias="BOOTSTRAP_ADMIN_PASSWORD"
    )


class RateLimitSettings(Section):
    """Requests per minute for each caller class."""

    model_config = SettingsConfigDict(env_prefix="RATE_LIMIT_", extra="ignore", populate_by_name=True)

    enabled: bool = Field(default=True, validation_alias="RATE_LIMITS_ENABLED")
    public: int = 10
    customer: int = 60
    dealer: int = 120
    technician: int = 30
    admin: int = 300
    block_after_violations: int = Field(default=5, validation_alias="IP_BLOCK_AFTER_VIOLATIONS")
    violation_window_seconds: int = Field(default=600, validation_alias="IP_BLOCK_WINDOW_SECONDS")
    block_seconds: int = Field(default=900, validation_alias="IP_BLOCK_SECONDS")


class Settings(Section):
    app_env: Environment = Field(default=Environment.DEVELOPMENT, validation_alias="APP_ENV")
    host: str = Field(default="127.0.0.1", validation_alias="HOST")
    port: int = Field(default=8000, validation_alias="PORT")
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    cors_origins: list[str] = Field(default_factory=list, validation_alias="CORS_ORIGINS")
    trust_proxy_headers: bool = Field(default=False, validation_alias="TRUST_PROXY_HEADERS")
    background_tasks_enabled: bool = Field(default=True, validation_alias="BACKGROUND_TASKS_ENABLED")

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)

    @model_validator(mode="after")
    def refuse_default_secrets_in_production(self) -> "Settings":
        if self.app_env is Environment.PRODUCTION:
            if self.auth.jwt_secret.get_secret_value() == DEFAULT_JWT_SECRET:
                raise ValueError("JWT_SECRET must be set in production")
            if len(self.auth.jwt_secret.get_secret_value()) < 32:
                raise ValueError("JWT_SECRET must be at least 32 characters")
            if not self.database.mongodb_url:
                raise ValueError("MONGODB_URL must be set in production")
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
