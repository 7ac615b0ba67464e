"""One long-lived server for every story: `python -m app.cli serve` (what `make run` runs) as
its own OS process, on its own durable embedded database, with the Razorpay and RazorpayX
sandboxes and the background jobs on. Nothing is reset between stories: each creates its own
people and leaves its data behind, so later stories run against a growing, shared database.

Rate limits are on at their development values. The suite plays the reverse proxy
(TRUSTED_PROXIES=127.0.0.1) and every person it invents sends its own address in
X-Forwarded-For, as real users behind a proxy would: without that, every signup of the whole
suite would come from 127.0.0.1 and the auth limit (10 a minute per IP) would refuse them.
"""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.processes import ApiProcess
from tests.stories.people import World


@pytest.fixture(scope="session")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ApiProcess]:
    data = Path(tmp_path_factory.mktemp("stories"))
    env = {
        "MONGODB_URL": "",  # empty is unset: the embedded database, as `make run` starts it
        "EMBEDDED_DB_PATH": str(data / "db"),
        "AUDIT_SIGNING_KEY_FILE": str(data / "audit" / "signing.key"),
        "AUDIT_CHECKPOINT_FILE": str(data / "audit" / "checkpoints.jsonl"),
        "BOOTSTRAP_ADMIN_EMAIL": ADMIN_EMAIL, "BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "TRUSTED_PROXIES": "127.0.0.1", "RATE_LIMITS_ENABLED": "true",
        "APP_ENV": "development", "PAYMENT_GATEWAY": "sandbox", "PAYOUT_PROVIDER": "sandbox",
        "BACKGROUND_TASKS_ENABLED": "true", "LOG_LEVEL": "WARNING",
    }
    process = ApiProcess("stories", env, data / "serve.log")
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


@pytest.fixture(scope="session")
async def world(server: ApiProcess) -> AsyncIterator[World]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        yield World(http, server)
