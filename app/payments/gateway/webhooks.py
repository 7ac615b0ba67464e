"""Parsing a Razorpay webhook body (after its signature has been verified)."""

import json
from dataclasses import dataclass, field

from app.payments.gateway.base import GatewayOrder, GatewayPayment, GatewayRefund
from app.payments.gateway.entities import order_from_entity, payment_from_entity, refund_from_entity
from app.payments.gateway.exceptions import GatewayError


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """One delivery: `event_id` (X-Razorpay-Event-Id) is the de-duplication key."""

    event_id: str
    event: str
    created_at: int | None
    payment: GatewayPayment | None
    refund: GatewayRefund | None
    order: GatewayOrder | None
    payload: dict = field(default_factory=dict)  # the whole payload, for events of other entities


def _entity(payload: dict, name: str) -> dict | None:
    wrapper = payload.get(name)
    if isinstance(wrapper, dict) and isinstance(wrapper.get("entity"), dict):
        return wrapper["entity"]
    return None


def parse_webhook_event(raw_body: bytes, event_id: str) -> WebhookEvent:
    """The event in a verified webhook body; GatewayError when it is not a Razorpay event."""
    try:
        body = json.loads(raw_body)
    except ValueError as exc:
        raise GatewayError("Webhook body is not JSON", code="UNEXPECTED_RESPONSE") from exc
    if not isinstance(body, dict) or body.get("entity") != "event" or not body.get("event"):
        raise GatewayError("Webhook body is not a Razorpay event", code="UNEXPECTED_RESPONSE")
    payload = body.get("payload") if isinstance(body.get("payload"), dict) else {}
    payment = _entity(payload, "payment")
    refund = _entity(payload, "refund")
    order = _entity(payload, "order")
    return WebhookEvent(
        event_id=event_id,
        event=str(body["event"]),
        created_at=body.get("created_at"),
        payment=payment_from_entity(payment) if payment else None,
        refund=refund_from_entity(refund) if refund else None,
        order=order_from_entity(order) if order else None,
        payload=payload,
    )
