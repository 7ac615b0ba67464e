
import pytest

from tests.disputes.factories import Disputes
from tests.payments.factories import Payments


@pytest.fixture
def disputes(pay: Payments) -> Disputes:
    return Disputes(pay)
