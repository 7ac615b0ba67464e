"""Secrets at rest (bank account numbers, IMEIs): AES-256-GCM under a base64 32-byte key.

Each value is sealed with a fresh 96-bit nonce and bound to the id of the document holding it
(the associated data), so a ciphertext copied onto another document does not open. The
stored form is `v1.<base64(nonce | ciphertext | tag)>`; the version leaves room for a key
rotation.
"""

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"
NONCE_BYTES = 12


class Unsealable(Exception):
    """The stored value does not open under this key (wrong key, or tampered)."""


def seal(value: str, key_b64: str, bound_to: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(base64.b64decode(key_b64)).encrypt(nonce, value.encode(), bound_to.encode())
    return f"{VERSION}.{base64.b64encode(nonce + sealed).decode()}"


def unseal(stored: str, key_b64: str, bound_to: str) -> str:
    version, _, payload = stored.partition(".")
    if version != VERSION:
        raise Unsealable(f"unknown sealing version {version!r}")
    raw = base64.b64decode(payload)
    try:
        return AESGCM(base64.b64decode(key_b64)).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], bound_to.encode()).decode()
    except InvalidTag:
        raise Unsealable("the value does not open under this key") from None
