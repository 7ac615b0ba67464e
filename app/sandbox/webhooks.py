"""The sandbox's webhooks: Razorpay's event envelope, signed with the webhook secret, POSTed to
the platform. A failed delivery is logged and recorded, never raised."""

import json
import logging
import secrets
import string
from typing import Any

import httpx

from app.core import clock
from app.payments.gateway.signatures import webhook_signature
from app.sandbox.store import Entity, SandboxStore, WebhookDelivery, WebhookEventRecord

log = logging.getLogger(__name__)

_ALPHABET = string.ascii_letters + string.digits


def random_id(prefix: str = "", length: int = 14) -> str:
    """Razorpay-looking ids: `order_`, `pay_`, `rfnd_` and a 14-character base62 tail."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def now_ts() -> int:
    return int(clock.utcnow().timestamp())


class WebhookDispatcher:
    def __init__(
        self, store: SandboxStore, url: str, secret: str, account_id: str, timeout: float = 5.0
    ) -> None:
        self.store = store
        self.url = url
        self._secret = secret
        self.account_id = account_id
        self.timeout = timeout
        # False: events are still recorded (and can be redelivered) but not sent on their own.
        self.enabled = True

    async def record(self, event: str, entities: dict[str, Entity]) -> WebhookEventRecord:
        """Record `event` carrying `entities` (e.g. {"payment": {...}}) as Razorpay would send it."""
        created_at = now_ts()
        body: dict[str, Any] = {
            "entity": "event",
            "account_id": self.account_id,
            "event": event,
            "contains": list(entities),
            "payload": {name: {"entity": entity} for name, entity in entities.items()},
            "created_at": created_at,
        }
        record = WebhookEventRecord(
            id=random_id(),
            event=event,
            body=json.dumps(body, separators=(",", ":")).encode(),
            created_at=created_at,
        )
        await self.store.add_event(record)
        return record

    async def deliver(self, event: WebhookEventRecord) -> WebhookDelivery:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Razorpay-Webhook/v1",
            "X-Razorpay-Event-Id": event.id,
            "X-Razorpay-Signature": webhook_signature(event.body, self._secret),
        }
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.post(self.url, content=event.body, headers=headers)
            delivery = WebhookDelivery(at=now_ts(), status_code=response.status_code)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            delivery = WebhookDelivery(at=now_ts(), status_code=None, error=type(exc).__name__)
        await self.store.add_delivery(event.id, delivery)
        if not delivery.ok:
            log.warning(
                "sandbox webhook not accepted",
                extra={"eventId": event.id, "event": event.event, "url": self.url,
                       "status": delivery.status_code, "error": delivery.error},
            )
        return delivery

    async def deliver_in_order(self, events: list[WebhookEventRecord]) -> None:
        """Background delivery of what an API call caused, unless automatic delivery is off."""
        if not self.enabled:
            return
        for event in events:
            try:
                await self.deliver(event)
            except Exception:
                log.exception("sandbox webhook delivery crashed", extra={"eventId": event.id})
