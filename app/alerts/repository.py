"""Every query on alerts. Alerts are read by admins who manage them all: no owner scope."""

from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from app.alerts.models import Alert, AlertKind
from app.core.database import Session
from app.core.pagination import PageRequest, paginate
from app.core.permissions import Actor, Permission
from app.core.policy import sees_all


def _collection() -> AsyncCollection:
    return Alert.get_pymongo_collection()


async def get(alert_id: str) -> Alert | None:
    return await Alert.get(alert_id)


async def insert(session: Session, alert: Alert) -> None:
    """Raises DuplicateKeyError when an alert is open for its kind and subject (`open_key`)."""
    await alert.insert(session=session)


async def count_once_more(alert_key: str) -> bool:
    """Add one to the open alert `alert_key`'s details.count; False if none is open."""
    result = await _collection().update_one(
        {"open_key": alert_key}, {"$inc": {"details.count": 1}}
    )
    return result.modified_count == 1


async def page(
    open_only: bool | None, kind: AlertKind | None, page: PageRequest
) -> tuple[list[Alert], str | None]:
    query: dict[str, Any] = {}
    if open_only is not None:
        query["acknowledged_at"] = None if open_only else {"$ne": None}
    if kind:
        query["kind"] = kind.value
    docs, next_cursor = await paginate(_collection(), query, page)
    return [Alert.model_validate(doc) for doc in docs], next_cursor


async def acknowledge(
    session: Session, alert_id: str, by: str, note: str | None, now: datetime
) -> bool:
    """Acknowledge an open alert (and free its kind and subject for a new one)."""
    result = await _collection().update_one(
        {"_id": alert_id, "acknowledged_at": None},
        {"$set": {"acknowledged_at": now, "acknowledged_by": by, "note": note},
         "$unset": {"open_key": ""}},
        session=session,
    )
    return result.modified_count == 1


async def count_open(actor: Actor) -> int:
    """Alerts not acknowledged yet, on the `by_state` index."""
    if not sees_all(actor, Permission.GOVERNANCE_READ):
        return 0
    return await _collection().count_documents({"acknowledged_at": None})
