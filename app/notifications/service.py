"""Recording notifications once, and reading one's own."""

from app.core.database import Session
from app.core.pagination import PageRequest
from app.core.permissions import Actor
from app.notifications import repository
from app.notifications.models import Notification


async def notify(
    session: Session | None, *, key: str, user_id: str, kind: str, subject_type: str,
    subject_id: str, message: str,
) -> bool:
    """Record a notification unless one with this key exists; True when it is new."""
    notification = Notification(id=key, user_id=user_id, kind=kind, subject_type=subject_type,
                                subject_id=subject_id, message=message)
    return await repository.insert_once(session, notification)


async def list_mine(actor: Actor, page: PageRequest) -> tuple[list[Notification], str | None]:
    """The caller's own notifications, newest first."""
    return await repository.page_own(actor, page)
