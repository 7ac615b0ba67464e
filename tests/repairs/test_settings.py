"""The IMEI sealing key: 32 bytes of base64 everywhere; production refuses the published
development default."""

import base64
import secrets

import pytest
from pydantic import SecretStr, ValidationError

from app.core.config import RepairSettings, Settings
from app.core.config_repairs import DEFAULT_IMEI_ENCRYPTION_KEY
from tests.production import production_settings


def test_production_refuses_the_default_imei_key() -> None:
    with pytest.raises(ValidationError, match="IMEI_ENCRYPTION_KEY must be set"):
        production_settings(repairs=RepairSettings())
    key = SecretStr(base64.b64encode(secrets.token_bytes(32)).decode())
    config = production_settings(repairs=RepairSettings(imei_encryption_key=key))
    assert config.repairs.imei_encryption_key.get_secret_value() != DEFAULT_IMEI_ENCRYPTION_KEY


@pytest.mark.parametrize("key", [base64.b64encode(b"k" * 16).decode(), "not base64 at all!"])
def test_the_imei_key_must_be_32_bytes_of_base64(monkeypatch, key) -> None:
    monkeypatch.setenv("IMEI_ENCRYPTION_KEY", key)
    with pytest.raises(ValidationError, match="IMEI_ENCRYPTION_KEY"):
        Settings()


def test_development_uses_the_published_default(monkeypatch) -> None:
    monkeypatch.delenv("IMEI_ENCRYPTION_KEY", raising=False)
    raw = base64.b64decode(Settings().repairs.imei_encryption_key.get_secret_value())
    assert len(raw) == 32
