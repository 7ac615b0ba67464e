from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field

from app.core.schemas import APIModel


class AuditStoredModel(APIModel):
    """Read from stored documents, which carry internal fields (`pending`) not shown."""

    model_config = ConfigDict(extra="ignore")


class AuditSource(AuditStoredModel):
    ip: str | None = None
    user_agent: str | None = None
    trace_id: str | None = None


class AuditEntryRead(AuditStoredModel):
    id: str = Field(validation_alias="_id")
    seq: int | None = None
    at: datetime
    actor_id: str
    actor_role: str
    action: str
    subject_type: str
    subject_id: str
    changes: dict[str, Any]
    reason: str | None = None
    override: bool
    metadata: dict[str, Any]
    source: AuditSource
    prev_hash: str | None = None
    hash: str | None = None


class ChainVerification(APIModel):
    valid: bool
    checked: int
    first_broken_seq: int | None
    pending: int = Field(description="Entries committed but not yet chained (sequenced shortly)")
