from datetime import datetime

from fastapi import APIRouter

from app.auth.dependencies import CurrentActor
from app.core.errors import responses
from app.core.pagination import Pagination
from app.core.schemas import APIModel, Envelope, Page, ok
from app.notifications import service

router = APIRouter(tags=["Notifications"], responses=responses(401))


class NotificationRead(APIModel):
    id: str
    kind: str
    subject_type: str
    subject_id: str
    message: str
    read_at: datetime | None = None
    created_at: datetime


@router.get("/api/notifications")
async def my_notifications(actor: CurrentActor, page: Pagination) -> Envelope[Page[NotificationRead]]:
    """Your notifications, newest first (delivery reminders and the like)."""
    items, next_cursor = await service.list_mine(actor, page)
    return ok(Page[NotificationRead](
        items=[NotificationRead.model_validate(item) for item in items], next_cursor=next_cursor
    ))
