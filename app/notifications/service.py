"""Recording notifications once, and reading one's own."""

from app.core.database import Session
from app.core.pagination import PageRequest
from app.core.permissions import Actor
from app.notifications import repository
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
    created = await repository.insert_once(session, notification)
    if created and session is None:
        await push(notification)
    return created


async def push(notification: Notification) -> None:
    """Send a recorded notification to its user's connected Socket.IO clients."""
    payload = NotificationRead.model_validate(notification).model_dump(mode="json", by_alias=True)
    await events.emit_to_user(notification.user_id, NOTIFICATION_EVENT, payload)


async def list_mine(actor: Actor, page: PageRequest) -> tuple[list[Notification], str | None]:
    """The caller's own notifications, newest first."""
    return await repository.page_own(actor, page)
