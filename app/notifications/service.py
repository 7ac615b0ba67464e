"""Recording notifications once, and reading one's own."""

from pymongo.errors import DuplicateKeyError

from app.core.database import Session
from app.core.pagination import PageRequest, paginate
from app.notifications.models import Notification


async def notify(
    session: Session | None, *, key: str, user_id: str, kind: str, subject_type: str,
    subject_id: str, message: str,
) -> bool:
    """Record a notification unless one with this key exists; True when it is new."""
    notification = Notification(id=key, user_id=user_id, kind=kind, subject_type=subject_type,
                                subject_id=subject_id, message=message)
    try:
        await notification.insert(session=session)
    except DuplicateKeyError:
        return False
    return True


async def list_for(user_id: str, page: PageRequest) -> tuple[list[Notification], str | None]:
    docs, next_cursor = await paginate(
        Notification.get_pymongo_collection(), {"user_id": user_id}, page
    )
    return [Notification.model_validate(doc) for doc in docs], next_cursor
