"""One SecantusDB process per test session, a fresh database and app per test."""

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from app.core import clock, database
from app.core.config import (
    AuditSettings,
    AuthSettings,
    DatabaseSettings,
    Environment,
    RateLimitSettings,
    Settings,
)
from app.core.embedded import EmbeddedMongo
from app.main import create_app
from app.payments.gateway import RazorpayGateway
from tests.commands import CommandCounter
from tests.helpers import ADMIN_EMAIL, ADMIN_PASSWORD, Api
from tests.live import LiveServer, WebhookReceiver, receiving_webhooks, running_live
from tests.payments.factories import Payments


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "settings(**sections): override settings sections for this test's app"
    )


@pytest.fixture(scope="session")
def mongo_server() -> Iterator[EmbeddedMongo]:
    server = EmbeddedMongo(":memory:").start()
    yield server
    server.stop()


@pytest.fixture
def config(
    mongo_server: EmbeddedMongo, request: pytest.FixtureRequest, tmp_path: Path
) -> Settings:
    sections: dict[str, Any] = {
        # Each test keeps its audit signing key and checkpoint file in its own directory.
        "audit": AuditSettings(
            signing_key_file=str(tmp_path / "audit" / "signing.key"),
            checkpoint_file=str(tmp_path / "audit" / "checkpoints.jsonl"),
        ),
        "database": DatabaseSettings(
            mongodb_url=mongo_server.url, mongodb_db=f"test_{uuid.uuid4().hex[:12]}"
        ),
        "auth": AuthSettings(
            bootstrap_admin_email=ADMIN_EMAIL, bootstrap_admin_password=ADMIN_PASSWORD
        ),
        "rate_limits": RateLimitSettings(enabled=False),
    }
    top_level: dict[str, Any] = {}
    marker = request.node.get_closest_marker("settings")
    if marker:
        # `section={…}` updates a settings section; any other name is a top-level setting
        # (e.g. `background_tasks_enabled=False` for a test that runs the jobs itself).
        for name, values in marker.kwargs.items():
            if not isinstance(values, dict):
                top_level[name] = values
                continue
            base = sections.get(name) or Settings.model_fields[name].default_factory()
            sections[name] = base.model_copy(update=values)
    return Settings(app_env=Environment.TEST, log_level="WARNING", **sections, **top_level)


@pytest.fixture
async def app(config: Settings) -> AsyncIterator[Any]:
    application = create_app(config)
    async with LifespanManager(application, startup_timeout=60, shutdown_timeout=60):
        yield application
    client: AsyncMongoClient = AsyncMongoClient(config.database.mongodb_url)
    await client.drop_database(config.database.mongodb_db)
    await client.close()


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def api(client: httpx.AsyncClient) -> Api:
    return Api(client)


@pytest.fixture
async def mongo_db(config: Settings) -> AsyncIterator[AsyncDatabase]:
    """The test's database, read (or tampered with) directly, beside the API."""
    client: AsyncMongoClient = AsyncMongoClient(config.database.mongodb_url, tz_aware=True)
    yield client[config.database.mongodb_db]
    await client.close()


@pytest.fixture
async def webhook_receiver() -> AsyncIterator[WebhookReceiver]:
    async with receiving_webhooks() as receiver:
        yield receiver


@pytest.fixture
async def live_server(config: Settings) -> AsyncIterator[LiveServer]:
    """The whole platform under uvicorn on a loopback port, with the Razorpay sandbox."""
    async with running_live(config) as server:
        yield server


@pytest.fixture
def gateway(live_server: LiveServer) -> RazorpayGateway:
    """The Razorpay SDK gateway, pointed at the live server's sandbox."""
    return live_server.gateway()


@pytest.fixture
async def pay(live_server: LiveServer) -> AsyncIterator[Payments]:
    """The payments API of the live server, spoken by buyers, dealers and admins."""
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=60) as http:
        yield Payments(live_server, Api(http))


@pytest.fixture
def commands() -> Iterator[CommandCounter]:
    """The database commands of each request (tests/commands.py); request it before the app's
    fixtures (`api`, `client`, `live_server`, `pay`) so the app's client reports to it."""
    counter = CommandCounter()
    database.add_command_listener(counter)
    yield counter
    database.remove_command_listener(counter)


@pytest.fixture(autouse=True)
def _real_clock() -> Iterator[None]:
    """Each test starts on the real clock, whatever an earlier test moved it to."""
    clock.reset()
    yield
    clock.reset()
