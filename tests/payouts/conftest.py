from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from app.payouts.provider import use_provider
from tests.live import LiveServer


@pytest.fixture
async def client(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    """Payouts go to RazorpayX over HTTP (the sandbox mounted on the live server) and settle by
    its webhooks, so every payout test drives the platform on a real port."""
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=60) as http:
        yield http


@pytest.fixture(autouse=True)
def default_payout_provider() -> Iterator[None]:
    """Tests may install a provider double; every test starts and ends with the real one."""
    use_provider(None)
    yield
    use_provider(None)
