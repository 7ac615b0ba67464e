from fastapi import APIRouter

from app.auth.dependencies import NotificationReader
from app.core.errors import responses
from app.core.pagination import Pagination
from app.core.schemas import Envelope, Page, ok
from app.notifications import service
from app.notifications.schemas import NotificationRead

router = APIRouter(tags=["Notifications"], responses=responses(401))


@router.get("/api/notifications")
async def my_notifications(actor: NotificationReader, page: Pagination) -> Envelope[Page[NotificationRead]]:
    """Your notifications, newest first (delivery reminders and the like)."""
    items, next_cursor = await service.list_mine(actor, page)
    return ok(Page[NotificationRead](
        items=[NotificationRead.model_validate(item) for item in items], next_cursor=next_cursor
    ))
