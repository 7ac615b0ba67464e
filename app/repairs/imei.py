"""IMEIs at rest: AES-256-GCM under IMEI_ENCRYPTION_KEY, and the masked form every response shows.

Each IMEI is sealed with a fresh 96-bit nonce and bound to its repair's id (the associated
data), so a ciphertext copied onto another job does not open. The stored form is
`v1.<base64(nonce | ciphertext | tag)>`; the version leaves room for a key rotation. The
whole number is never shown in this issue's responses: only `•••••••••••` and its last 4.
"""

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.core.config import settings

VERSION = "v1"
NONCE_BYTES = 12
IMEI_DIGITS = 15
MASK = "•" * (IMEI_DIGITS - 4)


class ImeiUnreadable(Exception):
    """The stored IMEI does not open under the configured key (wrong key, or tampered)."""


def is_valid_imei(value: str) -> bool:
    """15 digits whose last is the Luhn check digit of the first 14."""
    if len(value) != IMEI_DIGITS or not value.isascii() or not value.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(value)):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            digit -= 9 if digit > 9 else 0
        total += digit
    return total % 10 == 0


def masked(last4: str | None) -> str | None:
    """`•••••••••••1234`: what a response shows of an IMEI."""
    return f"{MASK}{last4}" if last4 else None


def _cipher() -> AESGCM:
    return AESGCM(base64.b64decode(settings().repairs.imei_encryption_key.get_secret_value()))


def seal_imei(imei: str, repair_id: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = _cipher().encrypt(nonce, imei.encode(), repair_id.encode())
    return f"{VERSION}.{base64.b64encode(nonce + sealed).decode()}"


def open_imei(stored: str, repair_id: str) -> str:
    version, _, payload = stored.partition(".")
    if version != VERSION:
        raise ImeiUnreadable(f"unknown sealing version {version!r}")
    raw = base64.b64decode(payload)
    try:
        return _cipher().decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], repair_id.encode()).decode()
    except InvalidTag:
        raise ImeiUnreadable("the IMEI does not open under this key") from None
