from datetime import datetime

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.core import clock


class Notification(Document):
    """`id` is a dedupe key (e.g. `delivery-reminder:ord_…`), so a job rerun notifies once."""

    id: str
    user_id: str
    kind: str
    subject_type: str
    subject_id: str
    message: str
    read_at: datetime | None = None
    created_at: datetime = Field(default_factory=clock.utcnow)

    class Settings:
        name = "notifications"
        indexes = [
            IndexModel([("user_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                       name="by_user"),
        ]


DOCUMENTS: list[type] = [Notification]
