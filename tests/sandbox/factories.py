"""Sandbox helpers: an in-process sandbox client with test keys, orders paid in it, and the
Razorpay error object its refusals carry."""

import base64
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from app.payments.gateway import GatewayOrder, RazorpayGateway
from app.sandbox import create_sandbox_app
from tests.live import LiveServer

KEY_ID, KEY_SECRET = "rzp_test_unit", "unit-test-key-secret"
WEBHOOK_SECRET = "unit-webhook-secret"
AUTH = "Basic " + base64.b64encode(f"{KEY_ID}:{KEY_SECRET}".encode()).decode()
NOWHERE = "http://127.0.0.1:9/none"


@asynccontextmanager
async def sandbox_client(
    webhook_url: str = NOWHERE, deliver: bool = False
) -> AsyncIterator[httpx.AsyncClient]:
    """The sandbox app in-process (ASGI), signed in with the test keys; `client.app` is it."""
    app = create_sandbox_app(KEY_ID, KEY_SECRET, WEBHOOK_SECRET, webhook_url)
    app.state.webhooks.enabled = deliver
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sandbox", headers={"Authorization": AUTH}
    ) as http:
        http.app = app  # type: ignore[attr-defined]
        yield http


async def order(sandbox: httpx.AsyncClient, amount: int = 10000) -> dict[str, Any]:
    answer = await sandbox.post("/v1/orders", json={"amount": amount, "currency": "INR"})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def paid(sandbox: httpx.AsyncClient, amount: int = 10000) -> dict[str, Any]:
    """Checkout's answer for a new order paid in full (and captured)."""
    created = await order(sandbox, amount)
    answer = await sandbox.post(f"/checkout/{created['id']}", json={"outcome": "success"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def error(answer: httpx.Response) -> dict[str, Any]:
    body = answer.json()
    assert set(body) == {"error"}
    assert {"code", "description", "source", "step", "reason", "metadata"} <= set(body["error"])
    return body["error"]


async def paid_order(
    live_server: LiveServer, gateway: RazorpayGateway, amount: int = 49900
) -> tuple[GatewayOrder, dict[str, Any]]:
    """An order created through the gateway SDK and paid in the live server's sandbox."""
    created = await gateway.create_order(amount, receipt=f"pay_{uuid.uuid4().hex[:20]}", notes={})
    answer = await live_server.checkout(created.id)
    assert answer.status_code == 200, answer.text
    return created, answer.json()
