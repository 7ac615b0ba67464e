from collections.abc import AsyncIterator

import httpx
import pytest

from tests.disputes.stories import Disputes
from tests.helpers import Api
from tests.payments.conftest import live_server  # noqa: F401  (the shared fixture)
from tests.payments.stories import Payments


@pytest.fixture
async def pay(live_server) -> AsyncIterator[Payments]:  # noqa: F811
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=60) as http:
        yield Payments(live_server, Api(http))


@pytest.fixture
def disputes(pay: Payments) -> Disputes:
    return Disputes(pay)
