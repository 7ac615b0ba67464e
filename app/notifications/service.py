"""Recording notifications once, and reading one's own."""

from pymongo.errors import DuplicateKeyError

from app.core.database import Session
from app.core.pagination import PageRequest, paginate
from app.notifications.models import Notification
from app.notifications.schemas import NotificationRead
from app.realtime import events

NOTIFICATION_EVENT = "notification"


async def notify(
    session: Session | None, *, key: str, user_id: str, kind: str, subject_type: str,
    subject_id: str, message: str,
) -> bool:
    """Record a notification unless one with this key exists; True when it is new.

    Outside a transaction a new notification is pushed to the user's live clients at once;
    inside one, the caller pushes it (`push`) after the commit, so no rolled-back one is sent.
    """
    notification = Notification(id=key, user_id=user_id, kind=kind, subject_type=subject_type,
                                subject_id=subject_id, message=message)
    try:
        await notification.insert(session=session)
    except DuplicateKeyError:
        return False
    if session is None:
        await push(notification)
    return True


async def push(notification: Notification) -> None:
    """Send a recorded notification to its user's connected Socket.IO clients."""
    payload = NotificationRead.model_validate(notification).model_dump(mode="json", by_alias=True)
    await events.emit_to_user(notification.user_id, NOTIFICATION_EVENT, payload)


async def list_for(user_id: str, page: PageRequest) -> tuple[list[Notification], str | None]:
    docs, next_cursor = await paginate(
        Notification.get_pymongo_collection(), {"user_id": user_id}, page
    )
    return [Notification.model_validate(doc) for doc in docs], next_cursor
