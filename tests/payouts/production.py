"""Payout settings production accepts, for tests that build a production `Settings`."""

import base64
import secrets

from pydantic import SecretStr

from app.core.config import PayoutProviderKind, PayoutSettings

REAL_PAYOUTS = PayoutSettings(
    provider=PayoutProviderKind.RAZORPAYX,
    razorpayx_account_number="2323230041626905",
    account_key=SecretStr(base64.b64encode(secrets.token_bytes(32)).decode()),
)
