"""Every query on notifications. A user reads only their own."""

from pymongo.errors import DuplicateKeyError

from app.core.database import Session
from app.core.pagination import PageRequest, paginate
from app.core.permissions import Actor
from app.notifications.models import Notification


async def insert_once(session: Session | None, notification: Notification) -> bool:
    """Insert unless a notification with its id (the dedupe key) exists; True when new."""
    try:
        await notification.insert(session=session)
    except DuplicateKeyError:
        return False
    return True


async def page_own(actor: Actor, page: PageRequest) -> tuple[list[Notification], str | None]:
    docs, next_cursor = await paginate(
        Notification.get_pymongo_collection(), {"user_id": actor.id}, page
    )
    return [Notification.model_validate(doc) for doc in docs], next_cursor
