from collections.abc import AsyncIterator

import httpx
import pytest

from tests.sandbox.factories import sandbox_client


@pytest.fixture
async def sandbox() -> AsyncIterator[httpx.AsyncClient]:
    """The sandbox in-process, webhooks recorded but not delivered on their own."""
    async with sandbox_client() as http:
        yield http
