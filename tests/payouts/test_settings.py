"""Production moves real money: it refuses the sandbox payout provider, and a missing or
published account-number key; the key is 32 bytes of base64 in every environment."""

import base64
import secrets

import pytest
from pydantic import SecretStr, ValidationError

from app.core.config import (
    PayoutProviderKind,
    PayoutSettings,
    Settings,
)
from app.payouts.provider import payout_base_url
from tests.production import production_settings

REAL = {
    "provider": PayoutProviderKind.RAZORPAYX,
    "razorpayx_account_number": "2323230041626905",
    "account_key": SecretStr(base64.b64encode(secrets.token_bytes(32)).decode()),
}


def _production(**payouts: object) -> Settings:
    return production_settings(payouts=PayoutSettings(**payouts))


def test_production_refuses_the_sandbox_provider_and_a_missing_key() -> None:
    with pytest.raises(ValidationError, match="PAYOUT_PROVIDER=razorpayx"):
        _production(**{**REAL, "provider": PayoutProviderKind.SANDBOX})
    with pytest.raises(ValidationError, match="PAYOUT_ACCOUNT_KEY must be set"):
        _production(**{k: v for k, v in REAL.items() if k != "account_key"})
    with pytest.raises(ValidationError, match="RAZORPAYX_ACCOUNT_NUMBER"):
        _production(**{k: v for k, v in REAL.items() if k != "razorpayx_account_number"})
    config = _production(**REAL)
    assert config.payouts.provider is PayoutProviderKind.RAZORPAYX
    assert payout_base_url(config) == "https://api.razorpay.com"


@pytest.mark.parametrize("key", [base64.b64encode(b"k" * 16).decode(), "not base64 at all!", ""])
def test_the_account_key_must_be_32_bytes_of_base64(monkeypatch, key) -> None:
    monkeypatch.setenv("PAYOUT_ACCOUNT_KEY", key)
    if key == "":  # an empty variable counts as unset: the development key
        assert len(base64.b64decode(Settings().payouts.account_key.get_secret_value())) == 32
        return
    with pytest.raises(ValidationError, match="PAYOUT_ACCOUNT_KEY"):
        Settings()


def test_payout_settings_come_from_the_environment(monkeypatch) -> None:
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    monkeypatch.setenv("PAYOUT_PROVIDER", "razorpayx")
    monkeypatch.setenv("RAZORPAYX_BASE_URL", "https://payouts.example.test/")
    monkeypatch.setenv("RAZORPAYX_ACCOUNT_NUMBER", "2323230041626905")
    monkeypatch.setenv("PAYOUT_ACCOUNT_KEY", key)

    config = Settings()

    assert config.payouts.provider is PayoutProviderKind.RAZORPAYX and not config.payouts.uses_sandbox
    assert payout_base_url(config) == "https://payouts.example.test"
    assert config.payouts.razorpayx_account_number == "2323230041626905"
    assert key not in repr(config)
    sandbox = Settings(host="0.0.0.0", port=8123, payouts=PayoutSettings(
        provider=PayoutProviderKind.SANDBOX, razorpayx_base_url=None))
    assert sandbox.payouts.uses_sandbox
    assert payout_base_url(sandbox) == "http://127.0.0.1:8123/sandbox/razorpay"
