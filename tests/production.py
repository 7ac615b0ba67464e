"""Settings that production accepts, for tests that check what it refuses: each test replaces
only the section it is about."""

import base64
import secrets
from typing import Any

from pydantic import SecretStr

from app.core.config import (
    AuditSettings,
    AuthSettings,
    DatabaseSettings,
    Environment,
    PaymentGatewayKind,
    PaymentSettings,
    PayoutProviderKind,
    PayoutSettings,
    RepairSettings,
    Settings,
)

REAL_PAYOUTS = PayoutSettings(
    provider=PayoutProviderKind.RAZORPAYX,
    razorpayx_account_number="2323230041626905",
    account_key=SecretStr(base64.b64encode(secrets.token_bytes(32)).decode()),
)
REAL_RAZORPAY: dict[str, Any] = {
    "gateway": PaymentGatewayKind.RAZORPAY,
    "razorpay_key_id": "rzp_live_" + secrets.token_hex(7),
    "razorpay_key_secret": SecretStr(secrets.token_urlsafe(18)),
    "razorpay_webhook_secret": SecretStr(secrets.token_urlsafe(18)),
}


def production_settings(**sections: Any) -> Settings:
    """A production `Settings` with every secret set well, but for `sections`."""
    defaults: dict[str, Any] = {
        "auth": AuthSettings(jwt_secret=SecretStr(secrets.token_urlsafe(48))),
        "database": DatabaseSettings(mongodb_url="mongodb://db:27017/?replicaSet=rs0"),
        "payments": PaymentSettings(**REAL_RAZORPAY),
        "payouts": REAL_PAYOUTS,
        "repairs": RepairSettings(
            imei_encryption_key=SecretStr(base64.b64encode(secrets.token_bytes(32)).decode())
        ),
        "metrics_token": SecretStr(secrets.token_urlsafe(48)),
        "audit": AuditSettings(
            signing_key=SecretStr(base64.b64encode(secrets.token_bytes(32)).decode())
        ),
    }
    return Settings(app_env=Environment.PRODUCTION, **{**defaults, **sections})
