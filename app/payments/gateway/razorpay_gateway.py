"""The production gateway: Razorpay through its official (synchronous) Python SDK, run off the
event loop. The same class talks to the project's sandbox when `base_url` points there."""

import asyncio
import hashlib
import logging
import re
import threading
from collections.abc import Callable
from typing import Any

import razorpay
import razorpay.errors
import requests

from app.payments.gateway import signatures
from app.payments.gateway.base import GatewayOrder, GatewayPayment, GatewayRefund, Paise
from app.payments.gateway.entities import (
    collection_items,
    order_from_entity,
    payment_from_entity,
    refund_from_entity,
)
from app.payments.gateway.exceptions import GatewayError, GatewayUnavailable

log = logging.getLogger(__name__)

IDEMPOTENCY_HEADER = "X-Refund-Idempotency"
IDEMPOTENCY_NOTE = "idempotency_key"
# Razorpay accepts refund idempotency keys of 10+ letters, digits, hyphens and underscores.
_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{10,64}$")
# Statuses after which the request's outcome is unknown and a retry (same key) is the answer.
_RETRYABLE_STATUSES = {409, 429}

SdkCall = Callable[[razorpay.Client], Any]


def sdk_base_url(url: str | None) -> str | None:
    """What the SDK's `base_url` takes: the host part, since the SDK appends `/v1/...` itself."""
    if not url:
        return None
    url = url.rstrip("/")
    return url.removesuffix("/v1")


def refund_idempotency_key(key: str) -> str:
    """`key` when Razorpay accepts it as is, otherwise a stable digest of it."""
    if _IDEMPOTENCY_KEY.fullmatch(key):
        return key
    return hashlib.sha256(key.encode()).hexdigest()


class RazorpayGateway:
    """PaymentGateway on the `razorpay` SDK. One SDK client (and HTTP session) per worker thread."""

    def __init__(
        self,
        key_id: str,
        key_secret: str,
        webhook_secret: str,
        *,
        base_url: str | None = None,
        currency: str = "INR",
        timeout: float = 15.0,
    ) -> None:
        self.key_id = key_id
        self.currency = currency
        self.base_url = sdk_base_url(base_url)
        self._key_secret = key_secret
        self._webhook_secret = webhook_secret
        self._timeout = timeout
        self._local = threading.local()

    def __repr__(self) -> str:
        base_url = self.base_url or razorpay.Client.DEFAULTS["base_url"]
        return f"RazorpayGateway(key_id={self.key_id!r}, base_url={base_url!r})"

    async def create_order(self, amount: Paise, receipt: str, notes: dict[str, str]) -> GatewayOrder:
        body = {
            "amount": amount,
            "currency": self.currency,
            "receipt": receipt,
            "notes": dict(notes),
            "payment_capture": 1,
        }
        entity = await self._call("create order", lambda sdk: sdk.order.create(body, **self._options()))
        return order_from_entity(entity)

    async def fetch_order(self, gateway_order_id: str) -> GatewayOrder:
        entity = await self._call(
            "fetch order", lambda sdk: sdk.order.fetch(gateway_order_id, {}, **self._options())
        )
        return order_from_entity(entity)

    async def fetch_payment(self, gateway_payment_id: str) -> GatewayPayment:
        entity = await self._call(
            "fetch payment", lambda sdk: sdk.payment.fetch(gateway_payment_id, {}, **self._options())
        )
        return payment_from_entity(entity)

    async def fetch_order_payments(self, gateway_order_id: str) -> list[GatewayPayment]:
        collection = await self._call(
            "fetch order payments",
            lambda sdk: sdk.order.payments(gateway_order_id, {}, **self._options()),
        )
        return [payment_from_entity(item) for item in collection_items(collection)]

    async def capture(self, gateway_payment_id: str, amount: Paise) -> GatewayPayment:
        entity = await self._call(
            "capture payment",
            lambda sdk: sdk.payment.capture(
                gateway_payment_id, amount, {"currency": self.currency}, **self._options()
            ),
        )
        return payment_from_entity(entity)

    async def refund(
        self, gateway_payment_id: str, amount: Paise, idempotency_key: str, notes: dict[str, str]
    ) -> GatewayRefund:
        key = refund_idempotency_key(idempotency_key)
        # Razorpay de-duplicates on the header; looking for the key in the payment's refunds as
        # well covers a retry that arrives after Razorpay has forgotten the key.
        existing = await self._refund_with_key(gateway_payment_id, key)
        if existing is not None:
            return existing
        body = {"amount": amount, "speed": "normal", "notes": {**notes, IDEMPOTENCY_NOTE: key}}
        entity = await self._call(
            "refund payment",
            lambda sdk: sdk.payment.refund(
                gateway_payment_id, body, headers={IDEMPOTENCY_HEADER: key}, **self._options()
            ),
        )
        return refund_from_entity(entity)

    async def fetch_refund(self, gateway_refund_id: str) -> GatewayRefund:
        entity = await self._call(
            "fetch refund", lambda sdk: sdk.refund.fetch(gateway_refund_id, {}, **self._options())
        )
        return refund_from_entity(entity)

    async def fetch_payment_refunds(self, gateway_payment_id: str) -> list[GatewayRefund]:
        collection = await self._call(
            "fetch payment refunds",
            lambda sdk: sdk.payment.fetch_multiple_refund(
                gateway_payment_id, {"count": 100}, **self._options()
            ),
        )
        return [refund_from_entity(item) for item in collection_items(collection)]

    def verify_payment_signature(
        self, gateway_order_id: str, gateway_payment_id: str, signature: str
    ) -> bool:
        return signatures.verify_payment_signature(
            gateway_order_id, gateway_payment_id, signature, self._key_secret
        )

    def verify_webhook_signature(self, raw_body: bytes, signature: str) -> bool:
        return signatures.verify_webhook_signature(raw_body, signature, self._webhook_secret)

    async def _refund_with_key(self, gateway_payment_id: str, key: str) -> GatewayRefund | None:
        for refund in await self.fetch_payment_refunds(gateway_payment_id):
            if refund.notes.get(IDEMPOTENCY_NOTE) == key:
                return refund
        return None

    def _options(self) -> dict[str, Any]:
        return {"timeout": self._timeout}

    async def _call(self, what: str, call: SdkCall) -> dict[str, Any]:
        return await asyncio.to_thread(self._call_in_thread, what, call)

    def _call_in_thread(self, what: str, call: SdkCall) -> dict[str, Any]:
        self._local.last_response = None
        try:
            result = call(self._client())
        except (
            razorpay.errors.BadRequestError,
            razorpay.errors.GatewayError,
            razorpay.errors.ServerError,
        ) as exc:
            error = self._refusal(exc)
            log.warning(
                "payment gateway refused",
                extra={"operation": what, "code": error.code, "status": error.status_code,
                       "description": error.description},
            )
            raise error from exc
        except requests.RequestException as exc:
            response = self._local.last_response
            status = response.status_code if response is not None else None
            log.warning("payment gateway unavailable",
                        extra={"operation": what, "error": type(exc).__name__, "status": status})
            raise GatewayUnavailable(f"{what}: {type(exc).__name__}", status_code=status) from exc
        if not isinstance(result, dict):
            raise GatewayError(f"{what}: unexpected response from the gateway", code="UNEXPECTED_RESPONSE")
        return result

    def _refusal(self, exc: Exception) -> GatewayError:
        """The SDK keeps only the description; the HTTP status and the rest of Razorpay's error
        object come from the response the session hook remembered."""
        response = self._local.last_response
        status = response.status_code if response is not None else None
        error: dict[str, Any] = {}
        if response is not None:
            try:
                body = response.json()
            except ValueError:
                body = None
            if isinstance(body, dict) and isinstance(body.get("error"), dict):
                error = body["error"]
        description = str(error.get("description") or exc or "Payment gateway error")
        if status is None or status >= 500 or status in _RETRYABLE_STATUSES:
            return GatewayUnavailable(description, status_code=status)
        metadata = error.get("metadata")
        return GatewayError(
            description,
            code=str(error.get("code") or "BAD_REQUEST_ERROR"),
            status_code=status,
            reason=_text(error.get("reason")),
            source=_text(error.get("source")),
            step=_text(error.get("step")),
            field=_text(error.get("field")),
            metadata=metadata if isinstance(metadata, dict) else {},
        )

    def _client(self) -> razorpay.Client:
        client: razorpay.Client | None = getattr(self._local, "client", None)
        if client is None:
            session = requests.Session()
            session.hooks["response"].append(self._remember_response)
            options = {"base_url": self.base_url} if self.base_url else {}
            client = razorpay.Client(session=session, auth=(self.key_id, self._key_secret), **options)
            client.set_app_details({"title": "parts-platform", "version": "1.0"})
            self._local.client = client
        return client

    def _remember_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._local.last_response = response


def _text(value: Any) -> str | None:
    return None if value in (None, "", "NA") else str(value)
