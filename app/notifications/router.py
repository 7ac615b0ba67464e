from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.auth.dependencies import NotificationReader
from app.core.errors import responses
from app.core.pagination import Pagination
from app.core.schemas import Envelope, ok
from app.notifications import service
from app.notifications.schemas import NotificationPage, NotificationRead, NotificationUpdate

router = APIRouter(tags=["Notifications"], responses=responses(401, 403))
NotificationId = Annotated[str, Path(alias="notificationId", max_length=200)]


@router.get("/api/notifications")
async def my_notifications(
    actor: NotificationReader, page: Pagination,
    unread: Annotated[bool | None, Query(description="true: only unread; false: only read")] = None,
) -> Envelope[NotificationPage]:
    """Your notifications, newest first, and how many are unread (also pushed live as
    `notification` events on your Socket.IO connection)."""
    items, next_cursor, unread_count = await service.list_mine(actor, unread, page)
    return ok(NotificationPage(
        items=[NotificationRead.model_validate(item) for item in items], next_cursor=next_cursor,
        unread_count=unread_count,
    ))


@router.patch("/api/notifications/{notificationId}", responses=responses(404, 422))
async def mark_read(
    notification_id: NotificationId, body: NotificationUpdate, actor: NotificationReader
) -> Envelope[NotificationRead]:
    """Mark one of your notifications read."""
    return ok(NotificationRead.model_validate(await service.mark_read(actor, notification_id)))
