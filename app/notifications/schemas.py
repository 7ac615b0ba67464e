from datetime import datetime

from app.core.schemas import APIModel


class NotificationRead(APIModel):
    id: str
    kind: str
    subject_type: str
    subject_id: str
    message: str
    read_at: datetime | None = None
    created_at: datetime
