"""Every query on notifications. A user reads only their own."""

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.core.database import Session
from app.core.pagination import PageRequest, paginate
from app.core.permissions import Actor
from app.notifications.models import Notification


def _notifications() -> Any:
    return Notification.get_pymongo_collection()


async def insert_once(session: Session | None, notification: Notification) -> bool:
    """Insert unless a notification with its id (the dedupe key) exists; True when new."""
    # Looked up first: in a transaction a duplicate-key error would abort the whole of it.
    if await _notifications().find_one({"_id": notification.id}, {"_id": 1}, session=session):
        return False
    try:
        await notification.insert(session=session)
    except DuplicateKeyError:
        return False
    return True


def _own(actor: Actor, unread: bool | None) -> dict[str, Any]:
    query: dict[str, Any] = {"user_id": actor.id}
    if unread is not None:
        query["read_at"] = None if unread else {"$ne": None}
    return query


async def page_own(
    actor: Actor, unread: bool | None, page: PageRequest
) -> tuple[list[Notification], str | None]:
    docs, next_cursor = await paginate(_notifications(), _own(actor, unread), page)
    return [Notification.model_validate(doc) for doc in docs], next_cursor


async def count_unread(actor: Actor) -> int:
    return await _notifications().count_documents(_own(actor, True))


async def get_own(actor: Actor, notification_id: str) -> Notification | None:
    doc = await _notifications().find_one({"_id": notification_id, "user_id": actor.id})
    return Notification.model_validate(doc) if doc else None


async def mark_read(actor: Actor, notification_id: str, now: datetime) -> Notification | None:
    """Mark the caller's own notification read (a read one keeps its first `read_at`)."""
    doc = await _notifications().find_one_and_update(
        {"_id": notification_id, "user_id": actor.id, "read_at": None},
        {"$set": {"read_at": now}}, return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        return await get_own(actor, notification_id)
    return Notification.model_validate(doc)


async def due_for_push(now: datetime, limit: int) -> list[Notification]:
    """Unpushed notifications whose writer had its chance to push them, oldest first."""
    cursor = _notifications().find({"push_after": {"$lte": now}}).sort(
        [("push_after", ASCENDING)]).limit(limit)
    return [Notification.model_validate(doc) for doc in await cursor.to_list()]


async def claim_push(notification: Notification, until: datetime) -> bool:
    """Take the push of an unpushed notification as it was read (its claim count); False
    when another process took it meanwhile or it was pushed. Held until `until`."""
    result = await _notifications().update_one(
        {"_id": notification.id, "pushed_at": None, "push_claims": notification.push_claims},
        {"$set": {"push_after": until}, "$inc": {"push_claims": 1}},
    )
    return result.modified_count == 1


async def mark_pushed(notification_id: str, claims: int, now: datetime) -> None:
    """Record the push made under claim number `claims`."""
    await _notifications().update_one(
        {"_id": notification_id, "pushed_at": None, "push_claims": claims},
        {"$set": {"pushed_at": now}, "$unset": {"push_after": ""}},
    )
