"""Every query on the ledger's collections: journal transactions, entries, cached balances."""

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from app.core.database import Session
from app.payments.ledger import accounts
from app.payments.ledger.models import AccountBalance, LedgerEntry, LedgerTransaction


async def insert_transaction(session: Session, transaction: LedgerTransaction) -> None:
    """Write a journal transaction and one entry document per entry; the key is unique."""
    document = transaction.model_dump(exclude={"id", "revision_id"})
    await LedgerTransaction.get_pymongo_collection().insert_one(
        {"_id": transaction.id, **document}, session=session
    )
    await LedgerEntry.get_pymongo_collection().insert_many(
        [
            {"_id": f"{transaction.id}#{index}", "transaction_id": transaction.id,
             "account": entry.account, "amount": entry.amount,
             "recipient_id": transaction.recipient_id, "created_at": transaction.created_at}
            for index, entry in enumerate(transaction.entries)
        ],
        session=session,
    )


async def credit_cached_balance(session: Session, account: str, amount: int) -> None:
    await AccountBalance.get_pymongo_collection().update_one(
        {"_id": account}, {"$inc": {"balance": amount}}, upsert=True, session=session
    )


async def debit_cached_balance(session: Session, account: str, amount: int) -> bool:
    """Take `amount` from the cached balance unless it holds less; True when taken."""
    result = await AccountBalance.get_pymongo_collection().update_one(
        {"_id": account, "balance": {"$gte": amount}},
        {"$inc": {"balance": -amount}},
        session=session,
    )
    return result.modified_count == 1


async def credit_owed_balance(session: Session, account: str, amount: int) -> bool:
    """Recover `amount` of what a receivable account says is owed, never more; True when done."""
    result = await AccountBalance.get_pymongo_collection().update_one(
        {"_id": account, "balance": {"$lte": -amount}},
        {"$inc": {"balance": amount}},
        session=session,
    )
    return result.modified_count == 1


async def cached_balance(account: str, session: Session | None = None) -> int:
    """The cached balance (constrained and receivable accounts), read in `session`."""
    found = await AccountBalance.get_pymongo_collection().find_one(
        {"_id": account}, {"balance": 1}, session=session
    )
    return int(found["balance"]) if found else 0


async def get_transaction(key: str) -> LedgerTransaction | None:
    return await LedgerTransaction.get(key)


async def _total(match: dict[str, Any], session: Session | None = None) -> int:
    pipeline = [{"$match": match}, {"$group": {"_id": None, "total": {"$sum": "$amount"}}}]
    cursor = await LedgerEntry.get_pymongo_collection().aggregate(pipeline, session=session)
    rows = await cursor.to_list()
    return int(rows[0]["total"]) if rows else 0


async def balance(account: str, session: Session | None = None) -> int:
    """Derived from the entries themselves, never from a cache."""
    return await _total({"account": account}, session)


async def pending_escrow(recipient_id: str) -> int:
    return await _total({"recipient_id": recipient_id,
                         "account": {"$regex": f"^{accounts.ESCROW_PREFIX}"}})


async def released_since(recipient_id: str, since: datetime) -> int:
    """What releases credited to the recipient's payable since `since`: one aggregation over
    the `by_recipient` (recipient, created_at) range of journal transactions."""
    pipeline: list[dict[str, Any]] = [
        {"$match": {"recipient_id": recipient_id, "created_at": {"$gte": since},
                    "kind": "release"}},
        {"$unwind": "$entries"},
        {"$match": {"entries.account": accounts.payable(recipient_id)}},
        {"$group": {"_id": None, "total": {"$sum": "$entries.amount"}}},
    ]
    rows = await (await LedgerTransaction.get_pymongo_collection().aggregate(pipeline)).to_list()
    return int(rows[0]["total"]) if rows else 0


async def transactions_of_payment(payment_id: str) -> list[dict[str, Any]]:
    """The journal transactions of one payment, oldest first (`by_payment` index)."""
    cursor = LedgerTransaction.get_pymongo_collection().find(
        {"payment_id": payment_id}).sort("created_at", 1)
    return await cursor.to_list()


async def sums_by(field_name: str, match: dict[str, Any] | None = None) -> dict[str, int]:
    """Entry amounts summed per value of `field_name` (of the entries matching `match`)."""
    pipeline: list[dict[str, Any]] = [{"$match": match}] if match else []
    pipeline.append({"$group": {"_id": f"${field_name}", "total": {"$sum": "$amount"}}})
    cursor = await LedgerEntry.get_pymongo_collection().aggregate(pipeline)
    return {row["_id"]: int(row["total"]) for row in await cursor.to_list()}


async def entries_of(account_names: Sequence[str], limit: int) -> list[dict[str, Any]]:
    cursor = (
        LedgerEntry.get_pymongo_collection()
        .find({"account": {"$in": list(account_names)}})
        .sort("created_at", -1)
        .limit(limit)
    )
    return await cursor.to_list()


async def all_transactions() -> AsyncIterator[dict[str, Any]]:
    async for txn in LedgerTransaction.get_pymongo_collection().find({}):
        yield txn



async def all_cached_balances() -> AsyncIterator[dict[str, Any]]:
    async for cached in AccountBalance.get_pymongo_collection().find({}):
        yield cached
