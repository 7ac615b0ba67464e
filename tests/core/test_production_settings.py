"""Production refuses every secret a reader of this repository knows, and weak ones."""

import secrets
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from app.core.config import (
    AuthSettings,
    Settings,
)
from tests.production import production_settings

REPO = Path(__file__).resolve().parents[2]


def _production(jwt_secret: str) -> Settings:
    return production_settings(auth=AuthSettings(jwt_secret=SecretStr(jwt_secret)))


def _published_values() -> set[str]:
    """Every value the repository's env example and compose file have shipped for secrets."""
    values = {
        "replace-with-64-random-characters-from-a-password-manager-000000",
        "change-me-in-dotenv-to-a-long-random-secret",
        "dev-only-insecure-jwt-secret-change-me-0123456789",
    }
    for line in (REPO / ".env.example").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            value = line.split("=", 1)[1].strip()
            if value:
                values.add(value)
    return values


@pytest.mark.parametrize("published", sorted(_published_values()))
def test_production_refuses_a_secret_published_in_the_repository(published: str) -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        _production(published)


@pytest.mark.parametrize(
    "weak",
    ["a" * 64, "0123456789abcdef" * 2, secrets.token_hex(15), "Tr0ub4dor&3-Tr0ub4dor&3-xyz"],
)
def test_production_refuses_a_secret_under_32_random_bytes(weak: str) -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        _production(weak)


@pytest.mark.parametrize("strong", [secrets.token_urlsafe(32), secrets.token_hex(32)])
def test_production_accepts_a_generated_secret(strong: str) -> None:
    assert _production(strong).auth.jwt_secret.get_secret_value() == strong


def test_the_env_example_holds_no_usable_secret() -> None:
    for line in (REPO / ".env.example").read_text().splitlines():
        if line.startswith(("JWT_SECRET", "RAZORPAY_KEY_SECRET", "RAZORPAY_WEBHOOK_SECRET",
                            "BOOTSTRAP_ADMIN_PASSWORD")):
            assert line.split("=", 1)[1].strip() == "", line


def test_compose_requires_every_secret_and_runs_production_on_the_real_gateway() -> None:
    compose = (REPO / "docker-compose.yml").read_text()
    for name in ("JWT_SECRET", "RAZORPAY_KEY_SECRET", "RAZORPAY_WEBHOOK_SECRET", "RAZORPAY_KEY_ID",
                 "BOOTSTRAP_ADMIN_PASSWORD"):
        assert f"${{{name}:?" in compose, name
    assert "APP_ENV: production" in compose
    assert "PAYMENT_GATEWAY: razorpay" in compose
