from datetime import datetime
from typing import Literal

from pydantic import Field

from app.core.schemas import APIModel, Page


class NotificationRead(APIModel):
    id: str
    kind: str
    subject_type: str
    subject_id: str
    message: str
    read_at: datetime | None = None
    created_at: datetime


class NotificationPage(Page[NotificationRead]):
    unread_count: int = Field(description="How many of your notifications are unread in all")


class NotificationUpdate(APIModel):
    read: Literal[True] = Field(description="`true` marks it read (reading is not undone)")
