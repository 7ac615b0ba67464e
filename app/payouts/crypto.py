"""Bank account numbers at rest: AES-256-GCM under PAYOUT_ACCOUNT_KEY.

Each number is sealed with a fresh 96-bit nonce and bound to its payout account's id (the
associated data), so a ciphertext copied onto another account does not open. The stored form
is `v1.<base64(nonce | ciphertext | tag)>`; the version leaves room for a key rotation. A number
is opened only to register it with the payout provider, never to answer a request.
"""

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.core.config import settings

VERSION = "v1"
NONCE_BYTES = 12


class AccountNumberUnreadable(Exception):
    """The stored number does not open under the configured key (wrong key, or tampered)."""


def _cipher() -> AESGCM:
    key = base64.b64decode(settings().payouts.account_key.get_secret_value())
    return AESGCM(key)


def seal_account_number(number: str, account_id: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = _cipher().encrypt(nonce, number.encode(), account_id.encode())
    return f"{VERSION}.{base64.b64encode(nonce + sealed).decode()}"


def open_account_number(stored: str, account_id: str) -> str:
    version, _, payload = stored.partition(".")
    if version != VERSION:
        raise AccountNumberUnreadable(f"unknown sealing version {version!r}")
    raw = base64.b64decode(payload)
    try:
        return _cipher().decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], account_id.encode()).decode()
    except InvalidTag:
        raise AccountNumberUnreadable("the account number does not open under this key") from None
