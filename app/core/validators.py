"""Formats shared by several domains: GSTIN, PAN, pincode, phone, passwords, ISO times."""

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

GSTIN_PATTERN = re.compile(r"^[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]$")
PAN_PATTERN = re.compile(r"^[A-Z]{5}[0-9]{4}[A-Z]$")
PINCODE_PATTERN = re.compile(r"^[1-9][0-9]{5}$")
ISO_DATE_PREFIX = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}")
PHONE_PATTERN = re.compile(r"^\+?[0-9]{10,15}$")

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 128


def _matching(pattern: re.Pattern[str], what: str, upper: bool = False):  # type: ignore[no-untyped-def]
    def check(value: str) -> str:
        value = value.strip().upper() if upper else value.strip()
        if not pattern.match(value):
            raise ValueError(f"not a valid {what}")
        return value

    return check


def check_password_strength(password: str) -> str:
    if len(password) < PASSWORD_MIN_LENGTH:
        raise ValueError(f"password must be at least {PASSWORD_MIN_LENGTH} characters")
    classes = [
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    ]
    if sum(classes) < 2:
        raise ValueError(
            "password must mix at least two of lower case, upper case, digits and symbols"
        )
    return password


def _iso_8601_text(value: Any) -> Any:
    # Pydantic also reads a number ("0.5") as Unix seconds; the contract says date-time.
    if isinstance(value, str) and not ISO_DATE_PREFIX.match(value):
        raise ValueError("expected an ISO 8601 date-time such as 2026-01-31T09:30:00Z")
    return value


Gstin = Annotated[str, AfterValidator(_matching(GSTIN_PATTERN, "GSTIN", upper=True))]
Pan = Annotated[str, AfterValidator(_matching(PAN_PATTERN, "PAN", upper=True))]
Pincode = Annotated[str, AfterValidator(_matching(PINCODE_PATTERN, "6-digit pincode"))]
Phone = Annotated[str, AfterValidator(_matching(PHONE_PATTERN, "phone number"))]
NewPassword = Annotated[
    str, Field(max_length=PASSWORD_MAX_LENGTH), AfterValidator(check_password_strength)
]
Reason = Annotated[str, Field(min_length=3, max_length=500)]
# A date-time in a query string: ISO 8601 only.
IsoDatetime = Annotated[datetime, BeforeValidator(_iso_8601_text)]
