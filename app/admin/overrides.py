"""Every use of an override right, read from the audit trail's entries marked as overrides."""

from datetime import datetime

from app.admin.schemas import OverrideRead
from app.audit import service as audit_service
from app.core.pagination import PageRequest
from app.core.permissions import Actor


async def page(
    actor: Actor, since: datetime | None, until: datetime | None, request: PageRequest
) -> tuple[list[OverrideRead], str | None]:
    entries, next_cursor = await audit_service.page_overrides(actor, since, until, request)
    return [
        OverrideRead(id=entry["_id"], action=entry["action"], subject_type=entry["subject_type"],
                     subject_id=entry["subject_id"], reason=entry["reason"],
                     actor_id=entry["actor_id"], at=entry["at"])
        for entry in entries
    ], next_cursor
