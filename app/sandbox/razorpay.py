"""A Razorpay-compatible sandbox as an ASGI app: the part of Razorpay's REST API the platform
uses (same JSON, basic auth and error object), a checkout route that plays the buyer, and
controls for webhooks. Mounted by the platform at /sandbox/razorpay in sandbox mode."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.config import DEFAULT_RAZORPAYX_ACCOUNT_NUMBER
from app.core.swagger import install_swagger_ui
from app.sandbox import payout_routes
from app.sandbox.deps import (
    NOTES,
    Body,
    PayoutsSandbox,
    Sandbox,
    authenticate,
    deliver_later,
    request_schema,
    with_webhooks,
)
from app.sandbox.errors import RazorpayApiError, authentication_failed, invalid
from app.sandbox.payouts import RazorpayXSandbox
from app.sandbox.service import CheckoutOutcome, RazorpaySandbox, RefundOutcome
from app.sandbox.store import MemorySandboxStore, SandboxStore, WebhookEventRecord
from app.sandbox.webhooks import WebhookDispatcher, random_id

api = APIRouter(prefix="/v1", dependencies=[Depends(authenticate)], tags=["Razorpay API v1"])


@api.post(
    "/orders",
    openapi_extra=request_schema(
        {
            "amount": {"type": "integer", "minimum": 100, "example": 49900},
            "currency": {"type": "string", "example": "INR"},
            "receipt": {"type": "string", "maxLength": 40},
            "notes": NOTES,
            "payment_capture": {"type": "integer", "enum": [0, 1]},
        },
        ["amount", "currency"],
    ),
)
async def create_order(sandbox: Sandbox, body: Body) -> dict[str, Any]:
    """Create an order (amount in paise)."""
    return await sandbox.create_order(body)


@api.get("/orders/{order_id}")
async def fetch_order(sandbox: Sandbox, order_id: str) -> dict[str, Any]:
    """Fetch an order."""
    return await sandbox.get_order(order_id)


@api.get("/orders/{order_id}/payments")
async def fetch_order_payments(sandbox: Sandbox, order_id: str) -> dict[str, Any]:
    """Every payment attempted on an order."""
    return await sandbox.order_payments(order_id)


@api.get("/payments/{payment_id}")
async def fetch_payment(sandbox: Sandbox, payment_id: str) -> dict[str, Any]:
    """Fetch a payment."""
    return await sandbox.get_payment(payment_id)


@api.post(
    "/payments/{payment_id}/capture",
    openapi_extra=request_schema(
        {"amount": {"type": "integer"}, "currency": {"type": "string", "example": "INR"}}, ["amount"]
    ),
)
async def capture_payment(sandbox: Sandbox, payment_id: str, body: Body) -> JSONResponse:
    """Capture an authorized payment for its full amount."""
    payment, events = await sandbox.capture(payment_id, body)
    return with_webhooks(sandbox, payment, events)


@api.post(
    "/payments/{payment_id}/refund",
    openapi_extra=request_schema(
        {
            "amount": {"type": "integer", "minimum": 100},
            "speed": {"type": "string", "enum": ["normal", "optimum"]},
            "notes": NOTES,
            "receipt": {"type": "string"},
        }
    ),
)
async def refund_payment(
    sandbox: Sandbox,
    payment_id: str,
    body: Body,
    idempotency_key: Annotated[str | None, Header(alias="X-Refund-Idempotency")] = None,
) -> JSONResponse:
    """Refund a captured payment, fully or partly; `X-Refund-Idempotency` makes retries safe."""
    refund, events = await sandbox.refund(payment_id, body, idempotency_key)
    return with_webhooks(sandbox, refund, events)


@api.get("/payments/{payment_id}/refunds")
async def fetch_payment_refunds(
    sandbox: Sandbox,
    payment_id: str,
    count: Annotated[int, Query(ge=1, le=100)] = 10,
    skip: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """The refunds of a payment, newest first."""
    return await sandbox.payment_refunds(payment_id, count, skip)


@api.get("/payments/{payment_id}/refunds/{refund_id}")
async def fetch_payment_refund(sandbox: Sandbox, payment_id: str, refund_id: str) -> dict[str, Any]:
    """One refund of a payment."""
    return await sandbox.get_refund(refund_id, payment_id)


@api.get("/refunds/{refund_id}")
async def fetch_refund(sandbox: Sandbox, refund_id: str) -> dict[str, Any]:
    """Fetch a refund."""
    return await sandbox.get_refund(refund_id)


class _ControlIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CheckoutIn(_ControlIn):
    outcome: CheckoutOutcome = Field(
        description="success: paid and captured; failure: a failed attempt; "
        "authorized: paid but left for the merchant to capture"
    )
    deliver_webhook: bool = Field(
        default=True, alias="deliverWebhook",
        description="false records the webhook event without sending it (a missed webhook)",
    )


class CheckoutOut(BaseModel):
    razorpay_order_id: str
    razorpay_payment_id: str
    razorpay_signature: str


class SendEventIn(_ControlIn):
    event: str = Field(examples=["payment.failed"], description=(
        "payment.authorized | payment.captured | payment.failed | order.paid | "
        "refund.created | refund.processed | refund.failed | "
        "payout.processed | payout.reversed | payout.failed"
    ))
    payment_id: str | None = Field(default=None, alias="paymentId")
    refund_id: str | None = Field(default=None, alias="refundId")
    payout_id: str | None = Field(default=None, alias="payoutId")


class RedeliverIn(_ControlIn):
    last: int = Field(default=1, ge=1, le=100, description="How many of the latest events")


class SettleRefundIn(_ControlIn):
    outcome: RefundOutcome
    deliver_webhook: bool = Field(default=True, alias="deliverWebhook")


controls = APIRouter(tags=["Sandbox controls"])


@controls.post(
    "/checkout/{gatewayOrderId}",
    response_model=CheckoutOut,
    responses={400: {"description": "The payment failed, or the order cannot be paid"}},
)
async def checkout(
    sandbox: Sandbox, gateway_order_id: Annotated[str, Path(alias="gatewayOrderId")], body: CheckoutIn
) -> JSONResponse:
    """Play the buyer in Razorpay Checkout: pay the whole order (or fail), get what Checkout's
    handler receives, and let the sandbox send the matching signed webhook to the platform."""
    result = await sandbox.checkout(gateway_order_id, body.outcome)
    background = deliver_later(sandbox, result.events) if body.deliver_webhook else None
    if result.signature is None:
        failure = result.failure()
        return JSONResponse(failure.body(), status_code=failure.status_code, background=background)
    answer = CheckoutOut(
        razorpay_order_id=result.order["id"],
        razorpay_payment_id=result.payment["id"],
        razorpay_signature=result.signature,
    )
    return JSONResponse(answer.model_dump(), background=background)


@controls.post("/refunds/{refund_id}/settle")
async def settle_refund(sandbox: Sandbox, refund_id: str, body: SettleRefundIn) -> JSONResponse:
    """Finish a pending refund (when automatic processing is off) as processed or failed."""
    refund, events = await sandbox.settle_refund(refund_id, body.outcome)
    background = deliver_later(sandbox, events) if body.deliver_webhook else None
    return JSONResponse(refund, background=background)


@controls.get("/webhooks")
async def list_webhook_events(
    sandbox: Sandbox, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> list[dict[str, Any]]:
    """The latest webhook events, newest first, with their delivery attempts."""
    events = await sandbox.store.recent_events(limit)
    return [_event_view(event) for event in reversed(events)]


@controls.get("/webhooks/{event_id}")
async def get_webhook_event(sandbox: Sandbox, event_id: str) -> dict[str, Any]:
    """One webhook event, its body and its delivery attempts."""
    return _event_view(await _event(sandbox, event_id))


@controls.post("/webhooks/send")
async def send_webhook_event(
    sandbox: Sandbox, payouts: PayoutsSandbox, body: SendEventIn
) -> dict[str, Any]:
    """Send a new signed event about an existing payment, refund or payout now, shown in the
    state the event announces (e.g. a late payment.failed after capture); stored entities do
    not change."""
    if body.event.startswith("payout."):
        event = await payouts.event_for(body.event, body.payout_id)
    else:
        event = await sandbox.event_for(body.event, body.payment_id, body.refund_id)
    await sandbox.dispatcher.deliver(event)
    return _event_view(event)


@controls.post("/webhooks/redeliver")
async def redeliver_latest(sandbox: Sandbox, body: RedeliverIn) -> list[dict[str, Any]]:
    """Send the latest events again, oldest first, with their original ids and signatures."""
    events = await sandbox.store.recent_events(body.last)
    for event in events:
        await sandbox.dispatcher.deliver(event)
    return [_event_view(event) for event in events]


@controls.post("/webhooks/{event_id}/redeliver")
async def redeliver_event(sandbox: Sandbox, event_id: str) -> dict[str, Any]:
    """Send one event again: same body, same X-Razorpay-Event-Id, same signature."""
    event = await _event(sandbox, event_id)
    await sandbox.dispatcher.deliver(event)
    return _event_view(event)


async def _event(sandbox: RazorpaySandbox, event_id: str) -> WebhookEventRecord:
    event = await sandbox.store.get_event(event_id)
    if event is None:
        raise RazorpayApiError("The id provided does not exist", status_code=404)
    return event


def _event_view(event: WebhookEventRecord) -> dict[str, Any]:
    return {
        "id": event.id,
        "event": event.event,
        "createdAt": event.created_at,
        "body": json.loads(event.body),
        "deliveries": [
            {"at": delivery.at, "statusCode": delivery.status_code, "error": delivery.error}
            for delivery in event.deliveries
        ],
    }


async def _razorpay_error(_: Request, exc: RazorpayApiError) -> JSONResponse:
    return exc.response()


async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    first = exc.errors()[0] if exc.errors() else {}
    location = [str(part) for part in first.get("loc", ()) if part != "body"]
    field = location[-1] if location else None
    description = f"{field}: {first.get('msg')}" if field else str(first.get("msg", "Invalid request"))
    return invalid(description, field).response()


async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 401:
        return authentication_failed("Authentication failed").response()
    descriptions = {404: "The requested URL was not found on the server.", 405: "Method not allowed"}
    description = descriptions.get(exc.status_code, str(exc.detail))
    return RazorpayApiError(
        description, status_code=exc.status_code, source="NA", step="NA", reason="NA"
    ).response()


def create_sandbox_app(
    key_id: str,
    key_secret: str,
    webhook_secret: str,
    webhook_url: str,
    *,
    store: SandboxStore | None = None,
    currency: str = "INR",
    payout_account_number: str = DEFAULT_RAZORPAYX_ACCOUNT_NUMBER,
) -> FastAPI:
    """The sandbox ASGI app. `app.state.store` holds its data, `app.state.sandbox` its rules and
    switches (`auto_process_refunds`), `app.state.payouts` RazorpayX's (`auto_process_payouts`),
    `app.state.webhooks` the dispatcher (`enabled`, `url`). Payouts are drawn from the business
    account `payout_account_number`."""
    store = store if store is not None else MemorySandboxStore()
    dispatcher = WebhookDispatcher(store, webhook_url, webhook_secret, random_id("acc_"))
    sandbox = RazorpaySandbox(key_id, key_secret, store, dispatcher, currency)
    payouts = RazorpayXSandbox(store, dispatcher, payout_account_number, currency)
    app = FastAPI(
        title="Razorpay sandbox",
        version="v1",
        description=(
            "A local stand-in for Razorpay: the REST API under `/v1` (HTTP basic auth with the "
            "key id and key secret), `POST /checkout/{gatewayOrderId}` to pay an order as the "
            "buyer, RazorpayX payouts (contacts, fund accounts, payouts) with a control to settle "
            "them, and webhook controls. Test keys and HMAC-SHA256 signatures as Razorpay's."
        ),
        docs_url=None, redoc_url=None,
    )
    install_swagger_ui(app)
    app.state.store = store
    app.state.sandbox = sandbox
    app.state.payouts = payouts
    app.state.webhooks = dispatcher
    app.add_exception_handler(RazorpayApiError, _razorpay_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.include_router(api)
    app.include_router(payout_routes.api)
    app.include_router(controls)
    app.include_router(payout_routes.controls)
    return app
