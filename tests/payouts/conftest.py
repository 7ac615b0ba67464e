from collections.abc import Iterator

import pytest

from app.payouts.provider import use_provider


@pytest.fixture(autouse=True)
def default_payout_provider() -> Iterator[None]:
    """Tests may install a provider double; every test starts and ends with the sandbox."""
    use_provider(None)
    yield
    use_provider(None)
