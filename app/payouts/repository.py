"""Every query on payouts and payout accounts.

Reads of what a caller may see take the `Actor`: a dealer or technician sees its own (its
profile is the recipient), holders of the read-all permission see everything.
"""

from datetime import datetime
from typing import Any, TypeVar

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from app.core import clock
from app.core.database import Session
from app.core.pagination import PageRequest, paginate
from app.core.permissions import Actor, Permission
from app.core.policy import OwnerFields, Owners, may_see, sees_all, visibility_filter
from app.core.queues import QueuePosition, Waiting, oldest_waiting
from app.payouts.models import (
    AccountStatusChange,
    Payout,
    PayoutAccount,
    PayoutAccountStatus,
    PayoutStatus,
    PayoutStatusChange,
)

# A recipient is a dealer (dlr_…) or a technician (tch_…): the prefixes never collide.
RECIPIENT = OwnerFields(dealer="recipient_id", technician="recipient_id")
UNSETTLED = [PayoutStatus.SCHEDULED.value, PayoutStatus.PROCESSING.value]


def _document(model: Payout | PayoutAccount) -> dict[str, Any]:
    return {"_id": model.id, **model.model_dump(exclude={"id", "revision_id"})}


M = TypeVar("M", Payout, PayoutAccount)


async def _page_visible(
    model: type[M], actor: Actor, read_all: Permission, query: dict[str, Any], page: PageRequest
) -> tuple[list[M], str | None]:
    """A page of `query` narrowed to the recipients `actor` may see."""
    visible = visibility_filter(actor, RECIPIENT, read_all)
    if visible:
        query = {"$and": [query, visible]} if query else visible
    docs, next_cursor = await paginate(model.get_pymongo_collection(), query, page)
    return [model.model_validate(doc) for doc in docs], next_cursor


# --- payouts -------------------------------------------------------------------------------

def _payouts() -> AsyncCollection:
    return Payout.get_pymongo_collection()


async def get_payout(payout_id: str, session: Session | None = None) -> Payout | None:
    """A payout by id, for the system's own work (no caller to scope to)."""
    doc = await _payouts().find_one({"_id": payout_id}, session=session)
    return Payout.model_validate(doc) if doc else None


async def visible_payout(actor: Actor, payout_id: str) -> Payout | None:
    """The payout if `actor` is its recipient or may see every payout; else None."""
    payout = await get_payout(payout_id)
    if payout is None or not may_see(actor, Owners(dealer_id=payout.recipient_id,
                                                           technician_id=payout.recipient_id),
                                     Permission.PAYOUTS_MANAGE):
        return None
    return payout


async def page_visible_payouts(
    actor: Actor, query: dict[str, Any], page: PageRequest
) -> tuple[list[Payout], str | None]:
    return await _page_visible(Payout, actor, Permission.PAYOUTS_MANAGE, query, page)


async def insert_payout(session: Session, payout: Payout) -> None:
    await _payouts().insert_one(_document(payout), session=session)


async def move_payout(
    session: Session, payout: Payout, entry: PayoutStatusChange, changes: dict[str, Any],
    now: datetime,
) -> Payout | None:
    """Apply `entry`'s move only from the state and version `payout` was read in."""
    doc = await _payouts().find_one_and_update(
        {"_id": payout.id, "status": payout.status.value, "version": payout.version},
        {"$set": {**changes, "status": entry.to_status.value, "attempt": entry.attempt,
                  "updated_at": now},
         "$inc": {"version": 1},
         "$push": {"status_history": entry.model_dump(mode="python")}},
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    return Payout.model_validate(doc) if doc else None


async def note_provider_payout(
    payout_id: str, attempt: int, provider_payout_id: str, provider_status: str
) -> Payout | None:
    """Remember the provider's id and status of a processing attempt (not a state change, so
    the version stays: a concurrent settlement is not turned away by it)."""
    doc = await _payouts().find_one_and_update(
        {"_id": payout_id, "attempt": attempt, "status": PayoutStatus.PROCESSING.value,
         "provider_transfer_id": {"$in": [None, provider_payout_id]}},
        {"$set": {"provider_transfer_id": provider_payout_id, "provider_status": provider_status,
                  "updated_at": clock.utcnow()}},
        return_document=ReturnDocument.AFTER,
    )
    return Payout.model_validate(doc) if doc else None


async def unsettled_payout_ids(updated_before: datetime, limit: int) -> list[str]:
    cursor = (
        _payouts()
        .find({"status": {"$in": UNSETTLED}, "updated_at": {"$lt": updated_before}}, {"_id": 1})
        .sort("updated_at", ASCENDING)
        .limit(limit)
    )
    return [doc["_id"] for doc in await cursor.to_list()]


async def paid_out(recipient_id: str) -> int:
    """The sum of the recipient's paid payouts."""
    pipeline = [{"$match": {"recipient_id": recipient_id, "status": PayoutStatus.PAID.value}},
                {"$group": {"_id": None, "total": {"$sum": "$amount"}}}]
    rows = await (await _payouts().aggregate(pipeline)).to_list()
    return int(rows[0]["total"]) if rows else 0


# --- payout accounts ---------------------------------------------------------------------

def _accounts() -> AsyncCollection:
    return PayoutAccount.get_pymongo_collection()


async def get_account(account_id: str, session: Session | None = None) -> PayoutAccount | None:
    doc = await _accounts().find_one({"_id": account_id}, session=session)
    return PayoutAccount.model_validate(doc) if doc else None


async def active_account(recipient_id: str, session: Session | None = None) -> PayoutAccount | None:
    doc = await _accounts().find_one({"recipient_id": recipient_id, "active": True},
                                     session=session)
    return PayoutAccount.model_validate(doc) if doc else None


async def insert_account(session: Session, account: PayoutAccount) -> None:
    await _accounts().insert_one(_document(account), session=session)


async def supersede_account(
    session: Session, previous: PayoutAccount, replacement_id: str, entry: AccountStatusChange,
    now: datetime,
) -> bool:
    """Retire the active account, only from the version it was read in."""
    result = await _accounts().update_one(
        {"_id": previous.id, "version": previous.version, "active": True},
        {"$set": {"active": False, "status": entry.to_status.value,
                  "superseded_by": replacement_id, "updated_at": now},
         "$inc": {"version": 1},
         "$push": {"status_history": entry.model_dump(mode="python")}},
        session=session,
    )
    return result.modified_count == 1


async def move_account(
    session: Session, account: PayoutAccount, entry: AccountStatusChange, now: datetime
) -> PayoutAccount | None:
    """Change an active account's status, only from the state and version it was read in."""
    doc = await _accounts().find_one_and_update(
        {"_id": account.id, "status": account.status.value, "version": account.version,
         "active": True},
        {"$set": {"status": entry.to_status.value, "updated_at": now},
         "$inc": {"version": 1},
         "$push": {"status_history": entry.model_dump(mode="python")}},
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    return PayoutAccount.model_validate(doc) if doc else None


async def note_provider_destination(
    account_id: str, contact_id: str, fund_account_id: str
) -> None:
    """Remember the provider's contact and fund account of a payout account."""
    await _accounts().update_one(
        {"_id": account_id},
        {"$set": {"provider_contact_id": contact_id, "provider_fund_account_id": fund_account_id}},
    )


async def verified_recipients() -> list[str]:
    """Every recipient whose active account is verified (the batch's candidates)."""
    return await _accounts().distinct(
        "recipient_id", {"active": True, "status": PayoutAccountStatus.VERIFIED.value}
    )


async def page_visible_accounts(
    actor: Actor, query: dict[str, Any], page: PageRequest
) -> tuple[list[PayoutAccount], str | None]:
    return await _page_visible(PayoutAccount, actor, Permission.PAYOUT_ACCOUNTS_VERIFY, query,
                               page)


_AWAITING_VERIFICATION = {"status": PayoutAccountStatus.PENDING_VERIFICATION.value}


async def accounts_awaiting_verification(
    actor: Actor, after: QueuePosition | None, limit: int
) -> list[Waiting]:
    """Payout accounts awaiting a finance admin's verification, oldest registration first
    (the accounts' `by_status` index)."""
    if not sees_all(actor, Permission.GOVERNANCE_READ):
        return []
    return await oldest_waiting(_accounts(), _AWAITING_VERIFICATION, "created_at", after, limit)


async def count_accounts_awaiting_verification(actor: Actor) -> int:
    if not sees_all(actor, Permission.GOVERNANCE_READ):
        return 0
    return await _accounts().count_documents(_AWAITING_VERIFICATION)


_ON_REVIEW = {"status": PayoutStatus.ON_REVIEW.value}


async def on_review(actor: Actor, after: QueuePosition | None, limit: int) -> list[Waiting]:
    """Payouts the fraud checks hold, oldest request first (the `by_status` index)."""
    if not sees_all(actor, Permission.GOVERNANCE_READ):
        return []
    return await oldest_waiting(_payouts(), _ON_REVIEW, "created_at", after, limit)


async def count_on_review(actor: Actor) -> int:
    if not sees_all(actor, Permission.GOVERNANCE_READ):
        return 0
    return await _payouts().count_documents(_ON_REVIEW)


async def was_paid_to(recipient_id: str, account_id: str, session: Session | None = None) -> bool:
    """Whether a payout to this account of the recipient was paid (`by_recipient_status`)."""
    found = await _payouts().find_one(
        {"recipient_id": recipient_id, "status": PayoutStatus.PAID.value, "account_id": account_id},
        {"_id": 1}, session=session)
    return found is not None
