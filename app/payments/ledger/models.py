from datetime import datetime
from typing import Any

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.core import clock


class Entry(BaseModel):
    """One side of a transfer: `amount` > 0 credits the account, < 0 debits it (paise)."""

    account: str
    amount: int


class LedgerTransaction(Document):
    """An immutable journal transaction; `id` is its idempotency key, so it posts once."""

    id: str
    kind: str
    entries: list[Entry]
    payment_id: str | None = None
    recipient_id: str | None = None
    actor_id: str
    memo: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=clock.utcnow)

    class Settings:
        name = "ledger_transactions"
        indexes = [
            IndexModel([("payment_id", ASCENDING), ("created_at", ASCENDING)], name="by_payment"),
            IndexModel([("recipient_id", ASCENDING), ("created_at", DESCENDING)],
                       name="by_recipient"),
            IndexModel([("created_at", DESCENDING), ("_id", DESCENDING)], name="newest"),
        ]


class LedgerEntry(Document):
    """The entries again, one document each, so balances derive from an indexed sum."""

    id: str
    transaction_id: str
    account: str
    amount: int
    recipient_id: str | None = None
    created_at: datetime = Field(default_factory=clock.utcnow)

    class Settings:
        name = "ledger_entries"
        indexes = [
            IndexModel([("account", ASCENDING), ("created_at", ASCENDING)], name="by_account"),
            IndexModel([("recipient_id", ASCENDING), ("account", ASCENDING)], name="by_recipient"),
            IndexModel([("transaction_id", ASCENDING)], name="by_transaction"),
        ]


class AccountBalance(Document):
    """Cached balance of a constrained account, changed only with its entries."""

    id: str
    balance: int = 0
    updated_at: datetime = Field(default_factory=clock.utcnow)

    class Settings:
        name = "ledger_balances"


DOCUMENTS: list[type] = [LedgerTransaction, LedgerEntry, AccountBalance]
