from datetime import datetime
from typing import Any

from pydantic import Field

from app.alerts.models import AlertKind
from app.core.schemas import APIModel


class AlertRead(APIModel):
    id: str
    kind: AlertKind
    subject_type: str
    subject_id: str
    message: str
    details: dict[str, Any]
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    note: str | None = None
    created_at: datetime


class AlertAcknowledge(APIModel):
    acknowledged: bool = Field(description="Must be true: alerts are acknowledged, not reopened")
    note: str | None = Field(default=None, max_length=500)
