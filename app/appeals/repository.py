"""Every query on appeals, scoped to the caller: admins who decide appeals see them all,
anyone else only its own."""

from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from app.appeals.models import Appeal, AppealStatus
from app.core.database import Session
from app.core.pagination import PageRequest, match, paginate
from app.core.permissions import Actor, Permission
from app.core.policy import sees_all
from app.core.queues import QueuePosition, Waiting, oldest_waiting


def _collection() -> AsyncCollection:
    return Appeal.get_pymongo_collection()


def _scope(actor: Actor) -> dict[str, Any]:
    return {} if actor.can(Permission.APPEALS_DECIDE) else {"user_id": actor.id}


async def get_visible(actor: Actor, appeal_id: str) -> Appeal | None:
    doc = await _collection().find_one({"_id": appeal_id, **_scope(actor)})
    return Appeal.model_validate(doc) if doc else None


async def page_visible(
    actor: Actor, status: AppealStatus | None, page: PageRequest
) -> tuple[list[Appeal], str | None]:
    """Newest first: the caller's own appeals, or every appeal for admins who decide them."""
    docs, next_cursor = await paginate(_collection(), {**_scope(actor), **match({"status": status})},
                                       page)
    return [Appeal.model_validate(doc) for doc in docs], next_cursor


async def insert(session: Session, appeal: Appeal) -> None:
    """Raises DuplicateKeyError while the account has an open appeal (`open_key`)."""
    await appeal.insert(session=session)


async def decide(
    session: Session, appeal_id: str, target: AppealStatus, by: str, note: str, now: datetime
) -> bool:
    """Close an open appeal with its decision; False if it is no longer open."""
    result = await _collection().update_one(
        {"_id": appeal_id, "status": AppealStatus.OPEN.value},
        {"$set": {"status": target.value, "decided_by": by, "decision_note": note,
                  "decided_at": now, "updated_at": now},
         "$unset": {"open_key": ""}},
        session=session,
    )
    return result.modified_count == 1


_OPEN = {"status": AppealStatus.OPEN.value}


async def open_appeals(actor: Actor, after: QueuePosition | None, limit: int) -> list[Waiting]:
    """Open appeals awaiting a decision, oldest first (the `by_status` index)."""
    if not sees_all(actor, Permission.GOVERNANCE_READ):
        return []
    return await oldest_waiting(_collection(), _OPEN, "created_at", after, limit)


async def count_open(actor: Actor) -> int:
    if not sees_all(actor, Permission.GOVERNANCE_READ):
        return 0
    return await _collection().count_documents(_OPEN)
