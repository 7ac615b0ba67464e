"""Real sockets: the platform under uvicorn on a loopback port (so the Razorpay SDK, which
speaks HTTP from a thread, reaches the mounted sandbox, and Socket.IO clients connect for
real), and a webhook receiver on another port to see what the sandbox sends.

tests/conftest.py turns these into the `live_server` and `webhook_receiver` fixtures."""

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from pydantic import SecretStr
from pymongo import AsyncMongoClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.core.config import Settings
from app.main import create_app
from app.payments.gateway import SANDBOX_PATH, RazorpayGateway, create_gateway
from app.sandbox.service import RazorpaySandbox
from app.sandbox.store import MemorySandboxStore
from tests.helpers import POLL_INTERVAL, eventually

STARTUP_TIMEOUT = 60.0
_SECRETS = {"razorpay_key_secret", "razorpay_webhook_secret"}
SHUTDOWN_TIMEOUT = 30.0


def _loopback_socket() -> socket.socket:
    """A bound socket on a free loopback port, handed to uvicorn (no race for the port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def serve(app: Any, sock: socket.socket, lifespan: str = "on") -> AsyncIterator[str]:
    """Run `app` under a real uvicorn server on `sock` in this event loop; yield its base URL."""
    host, port = sock.getsockname()[:2]
    server = uvicorn.Server(
        uvicorn.Config(
            app, host=host, port=port, lifespan=lifespan, log_level="warning", log_config=None,
            access_log=False, timeout_graceful_shutdown=5, proxy_headers=False,
        )
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    deadline = time.monotonic() + STARTUP_TIMEOUT
    try:
        while not server.started:
            if task.done():
                await task
                raise RuntimeError("uvicorn stopped before it started")
            if time.monotonic() > deadline:
                raise TimeoutError(f"uvicorn did not start within {STARTUP_TIMEOUT}s")
            await asyncio.sleep(POLL_INTERVAL)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, SHUTDOWN_TIMEOUT)
        sock.close()


@dataclass
class ReceivedWebhook:
    body: bytes
    headers: dict[str, str]

    @property
    def event_id(self) -> str:
        return self.headers.get("x-razorpay-event-id", "")

    @property
    def signature(self) -> str:
        return self.headers.get("x-razorpay-signature", "")


@dataclass
class WebhookReceiver:
    """Records every POST to `url`; answers `status_code`."""

    url: str = ""
    received: list[ReceivedWebhook] = field(default_factory=list)
    status_code: int = 200

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedWebhook]:
        async def probe() -> list[ReceivedWebhook]:
            return list(self.received)

        return await eventually(probe, lambda got: len(got) >= count, timeout)

    def app(self) -> Starlette:
        async def receive(request: Request) -> Response:
            self.received.append(ReceivedWebhook(await request.body(), dict(request.headers)))
            return Response(status_code=self.status_code)

        return Starlette(routes=[Route("/webhook", receive, methods=["POST"])])


@asynccontextmanager
async def receiving_webhooks() -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    async with serve(receiver.app(), _loopback_socket(), lifespan="off") as base_url:
        receiver.url = f"{base_url}/webhook"
        yield receiver


@dataclass
class LiveServer:
    """The platform on a real port. Its sandbox: `sandbox_url`, `sandbox`, `sandbox_store`."""

    base_url: str
    app: Any
    config: Settings

    @property
    def fastapi(self) -> Any:
        return self.app.fastapi

    @property
    def sandbox_url(self) -> str:
        return f"{self.base_url}{SANDBOX_PATH}"

    @property
    def sandbox_app(self) -> Any:
        for route in self.fastapi.routes:
            if getattr(route, "path", None) == SANDBOX_PATH:
                return route.app
        raise LookupError("the sandbox is not mounted (PAYMENT_GATEWAY is not sandbox)")

    @property
    def sandbox(self) -> RazorpaySandbox:
        return self.sandbox_app.state.sandbox

    @property
    def sandbox_store(self) -> MemorySandboxStore:
        return self.sandbox_app.state.store

    def gateway(self, **overrides: Any) -> RazorpayGateway:
        """The real SDK-backed gateway, configured as the app is (overrides: key_secret, ...)."""
        return create_gateway(with_payment_settings(self.config, **overrides))

    async def checkout(
        self, gateway_order_id: str, outcome: str = "success", deliver_webhook: bool = True
    ) -> httpx.Response:
        """The buyer pays in the sandbox's Checkout."""
        async with httpx.AsyncClient(base_url=self.sandbox_url, timeout=30) as http:
            return await http.post(
                f"/checkout/{gateway_order_id}",
                json={"outcome": outcome, "deliverWebhook": deliver_webhook},
            )


@asynccontextmanager
async def running_live(config: Settings) -> AsyncIterator[LiveServer]:
    """The whole platform (lifespan, database, mounted sandbox) under uvicorn on loopback. The
    gateway base URL and the default webhook URL follow from HOST/PORT, set here to the port."""
    sock = _loopback_socket()
    port = sock.getsockname()[1]
    live_config = config.model_copy(update={"host": "127.0.0.1", "port": port})
    application = create_app(live_config)
    try:
        async with serve(application, sock) as base_url:
            yield LiveServer(base_url, application, live_config)
    finally:
        client: AsyncMongoClient = AsyncMongoClient(config.database.mongodb_url)
        await client.drop_database(config.database.mongodb_db)
        await client.close()


def with_payment_settings(config: Settings, **values: Any) -> Settings:
    """`config` with some PaymentSettings replaced (for a test module's `config` override)."""
    values = {
        name: SecretStr(value) if name in _SECRETS and isinstance(value, str) else value
        for name, value in values.items()
    }
    return config.model_copy(update={"payments": config.payments.model_copy(update=values)})
