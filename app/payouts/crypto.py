"""Bank account numbers at rest: sealed under PAYOUT_ACCOUNT_KEY and bound to their payout
account's id (app/core/sealing.py). A number is opened only to register it with the payout
provider, never to answer a request."""

from app.core.config import settings
from app.core.sealing import seal, unseal


def _key() -> str:
    return settings().payouts.account_key.get_secret_value()


def seal_account_number(number: str, account_id: str) -> str:
    return seal(number, _key(), account_id)


def open_account_number(stored: str, account_id: str) -> str:
    return unseal(stored, _key(), account_id)
