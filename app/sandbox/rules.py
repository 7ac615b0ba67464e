"""Razorpay's input rules and entity views, as the sandbox applies them."""

import re
from typing import Any

from app.sandbox.errors import invalid
from app.sandbox.store import Entity

ORDER_FIELDS = {
    "amount", "currency", "receipt", "notes", "payment_capture", "partial_payment",
    "first_payment_min_amount",
}
REFUND_FIELDS = {"amount", "speed", "notes", "receipt"}
CAPTURE_FIELDS = {"amount", "currency"}
MIN_AMOUNT = 100
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{10,}$")

PAYMENT_EVENTS = {"payment.authorized", "payment.captured", "payment.failed", "order.paid"}
REFUND_EVENTS = {"refund.created", "refund.processed", "refund.failed"}
FAILED_PAYMENT_FIELDS = {
    "error_code": "BAD_REQUEST_ERROR",
    "error_description": "Payment failed",
    "error_source": "customer",
    "error_step": "payment_authorization",
    "error_reason": "payment_failed",
}


def public(entity: Entity) -> Entity:
    """The entity as Razorpay shows it: without the sandbox's own `_`-prefixed fields."""
    return {key: value for key, value in entity.items() if not key.startswith("_")}


def collection(entities: list[Entity]) -> Entity:
    return {"entity": "collection", "count": len(entities), "items": [public(e) for e in entities]}


def amount_of(value: Any, name: str = "amount") -> int:
    if value is None:
        raise invalid(f"The {name} field is required.", name)
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"The {name} must be an integer.", name)
    if value < MIN_AMOUNT:
        raise invalid(f"The {name} must be atleast INR 1.00", name)
    return value


def notes_of(value: Any) -> dict[str, str] | list[Any]:
    if value is None or value == []:
        return []
    if not isinstance(value, dict):
        raise invalid("The notes field must be an object.", "notes")
    if len(value) > 15:
        raise invalid("Number of fields in notes should be less than or equal to 15", "notes")
    notes: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(item, str | int | float) or isinstance(item, bool) or len(str(item)) > 256:
            raise invalid("Notes values must be strings of at most 256 characters.", "notes")
        notes[str(key)] = str(item)
    return notes or []


def refuse_unknown(body: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(body) - allowed)
    if extra:
        raise invalid(f"{', '.join(extra)} is/are not required and should not be sent", extra[0])


def fee_of(amount: int) -> tuple[int, int]:
    """Razorpay's fee (2% plus 18% GST on it), returned as (fee including tax, tax)."""
    base = (amount * 2 + 50) // 100
    tax = (base * 18 + 50) // 100
    return base + tax, tax
