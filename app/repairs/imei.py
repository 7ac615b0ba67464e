"""IMEIs at rest, sealed under IMEI_ENCRYPTION_KEY and bound to their repair's id
(app/core/sealing.py), and the masked form every response shows: `•••••••••••` and the last 4.
"""

from app.core.config import settings
from app.core.sealing import seal, unseal

IMEI_DIGITS = 15
MASK = "•" * (IMEI_DIGITS - 4)


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


def _key() -> str:
    return settings().repairs.imei_encryption_key.get_secret_value()


def seal_imei(imei: str, repair_id: str) -> str:
    return seal(imei, _key(), repair_id)


def open_imei(stored: str, repair_id: str) -> str:
    return unseal(stored, _key(), repair_id)
