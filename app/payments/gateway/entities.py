"""Razorpay's JSON entities (order, payment, refund) turned into the gateway's value objects."""

from collections.abc import Mapping
from typing import Any

from app.payments.gateway.base import (
    GatewayOrder,
    GatewayOrderStatus,
    GatewayPayment,
    GatewayPaymentStatus,
    GatewayRefund,
    GatewayRefundStatus,
)
from app.payments.gateway.exceptions import GatewayError


def _notes(value: Any) -> dict[str, str]:
    # Razorpay sends an empty notes object as `[]`.
    if isinstance(value, Mapping):
        return {str(key): str(item) for key, item in value.items()}
    return {}


def _paise(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"not an amount in paise: {value!r}")
    return value


def _malformed(kind: str, entity: Any, exc: Exception) -> GatewayError:
    return GatewayError(f"Unexpected {kind} entity from the gateway ({exc})", code="UNEXPECTED_RESPONSE")


def order_from_entity(entity: Mapping[str, Any]) -> GatewayOrder:
    try:
        return GatewayOrder(
            id=str(entity["id"]),
            amount=_paise(entity["amount"]),
            currency=str(entity["currency"]),
            receipt=entity.get("receipt"),
            status=GatewayOrderStatus(entity["status"]),
            amount_paid=_paise(entity.get("amount_paid", 0)),
            attempts=int(entity.get("attempts", 0)),
            notes=_notes(entity.get("notes")),
            created_at=entity.get("created_at"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise _malformed("order", entity, exc) from exc


def payment_from_entity(entity: Mapping[str, Any]) -> GatewayPayment:
    try:
        return GatewayPayment(
            id=str(entity["id"]),
            order_id=entity.get("order_id"),
            amount=_paise(entity["amount"]),
            currency=str(entity["currency"]),
            status=GatewayPaymentStatus(entity["status"]),
            amount_refunded=_paise(entity.get("amount_refunded") or 0),
            captured=bool(entity.get("captured", False)),
            error_code=entity.get("error_code"),
            error_description=entity.get("error_description"),
            error_reason=entity.get("error_reason"),
            method=entity.get("method"),
            notes=_notes(entity.get("notes")),
            created_at=entity.get("created_at"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise _malformed("payment", entity, exc) from exc


def refund_from_entity(entity: Mapping[str, Any]) -> GatewayRefund:
    try:
        return GatewayRefund(
            id=str(entity["id"]),
            payment_id=str(entity["payment_id"]),
            amount=_paise(entity["amount"]),
            currency=str(entity["currency"]),
            status=GatewayRefundStatus(entity["status"]),
            notes=_notes(entity.get("notes")),
            created_at=entity.get("created_at"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise _malformed("refund", entity, exc) from exc


def collection_items(collection: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    items = collection.get("items")
    if not isinstance(items, list):
        raise GatewayError("Unexpected collection from the gateway", code="UNEXPECTED_RESPONSE")
    return items
