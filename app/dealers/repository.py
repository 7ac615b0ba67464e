"""Every query on the dealers collection.

Reads of dealers take the actor and return only what it may see: approved dealers are
public, any other only to its own dealer account and admins. Other domains' services read
with the explicit system scope (`SYSTEM_ACTOR`), which sees every dealer.
"""

from collections.abc import Iterable
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from app.core import clock
from app.core.database import Session
from app.core.pagination import PageRequest, paginate
from app.core.permissions import Actor, Permission
from app.core.policy import Owners, may_see, sees_all
from app.core.queues import QueuePosition, Waiting, oldest_waiting
from app.dealers.models import Dealer, DealerStatus, StatusChange

# Every admin holds it (it also lists dealers): admins see every dealer.
READ_ALL = Permission.USERS_READ


def _collection() -> AsyncCollection:
    return Dealer.get_pymongo_collection()


def owners(dealer: Dealer) -> Owners:
    return Owners(dealer_id=dealer.id)


def sees_private(actor: Actor | None, dealer: Dealer) -> bool:
    """Its own dealer account and admins: the compliance data and every status."""
    return may_see(actor, owners(dealer), READ_ALL)


def _visible(actor: Actor | None, dealer: Dealer | None) -> Dealer | None:
    if dealer is None:
        return None
    return dealer if dealer.status is DealerStatus.APPROVED or sees_private(actor, dealer) else None


def _visible_filter(actor: Actor | None) -> dict[str, Any]:
    if sees_all(actor, READ_ALL):
        return {}
    approved: dict[str, Any] = {"status": DealerStatus.APPROVED.value}
    if actor is not None and actor.dealer_id:
        return {"$or": [approved, {"_id": actor.dealer_id}]}
    return approved


async def get_visible(actor: Actor | None, dealer_id: str) -> Dealer | None:
    return _visible(actor, await Dealer.get(dealer_id))


async def get_private(actor: Actor | None, dealer_id: str) -> Dealer | None:
    """The dealer, only if `actor` is its own account or an admin (or the system)."""
    dealer = await Dealer.get(dealer_id)
    return dealer if dealer is not None and sees_private(actor, dealer) else None


async def page(
    actor: Actor, status: DealerStatus | None, page_request: PageRequest
) -> tuple[list[Dealer], str | None]:
    """Newest first, optionally of one status, as far as `actor` may see them."""
    query: dict[str, Any] = {"status": status.value} if status else {}
    if scope := _visible_filter(actor):
        query = {"$and": [query, scope]} if query else scope
    docs, next_cursor = await paginate(_collection(), query, page_request)
    return [Dealer.model_validate(doc) for doc in docs], next_cursor


async def ids_with_status(status: DealerStatus) -> list[str]:
    """System scope: the ids of every dealer in `status` (served by the by_status index)."""
    return [doc["_id"] for doc in await _collection().find(
        {"status": status.value}, {"_id": 1}).to_list()]


async def tiers_in_use(tiers: Iterable[str]) -> set[str]:
    """System scope: which of `tiers` some dealer is on."""
    return set(await _collection().distinct(
        "commission_tier", {"commission_tier": {"$in": list(tiers)}}
    ))


async def insert(session: Session, dealer: Dealer) -> None:
    await dealer.insert(session=session)


async def change_status(session: Session, dealer: Dealer, entry: StatusChange) -> bool:
    """Move the dealer to `entry.to_status` only if it is still at the status and version read."""
    result = await _collection().update_one(
        {"_id": dealer.id, "status": dealer.status.value, "version": dealer.version},
        {"$set": {"status": entry.to_status.value, "updated_at": clock.utcnow()},
         "$push": {"status_history": entry.model_dump(mode="python")},
         "$inc": {"version": 1}},
        session=session,
    )
    return result.modified_count == 1


async def set_commission_tier(session: Session, dealer_id: str, tier: str) -> None:
    await _collection().update_one(
        {"_id": dealer_id},
        {"$set": {"commission_tier": tier, "updated_at": clock.utcnow()}, "$inc": {"version": 1}},
        session=session,
    )


async def awaiting_approval(
    actor: Actor, after: QueuePosition | None, limit: int
) -> list[Waiting]:
    """Dealers pending approval, oldest submission first (the `by_status` index)."""
    if not sees_all(actor, Permission.GOVERNANCE_READ):
        return []
    return await oldest_waiting(_collection(), {"status": DealerStatus.PENDING.value},
                                "created_at", after, limit)


async def count_awaiting_approval(actor: Actor) -> int:
    if not sees_all(actor, Permission.GOVERNANCE_READ):
        return 0
    return await _collection().count_documents({"status": DealerStatus.PENDING.value})
