from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from app.audit import service
from app.audit.schemas import AuditEntryRead, ChainVerification
from app.auth.dependencies import require
from app.core.errors import responses
from app.core.pagination import Pagination
from app.core.permissions import Permission
from app.core.schemas import Envelope, Page, ok

router = APIRouter(tags=["Audit"], responses=responses(401, 403))
AuditReader = require(Permission.AUDIT_READ)


async def _list_logs(
    actor: AuditReader,
    page: Pagination,
    actor_id: Annotated[str | None, Query(alias="actorId", max_length=64)] = None,
    subject_type: Annotated[str | None, Query(alias="subjectType", max_length=64)] = None,
    subject_id: Annotated[str | None, Query(alias="subjectId", max_length=128)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    override: bool | None = None,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
) -> Envelope[Page[AuditEntryRead]]:
    """Audit entries, newest first, filtered by actor, subject, action, override and time."""
    filters = service.AuditFilter(
        actor_id=actor_id, subject_type=subject_type, subject_id=subject_id,
        action=action, override=override, since=since, until=until,
    )
    docs, next_cursor = await service.list_entries(actor, filters, page)
    items = [AuditEntryRead.model_validate(doc) for doc in docs]
    return ok(Page[AuditEntryRead](items=items, next_cursor=next_cursor))


router.add_api_route("/api/audit/logs", _list_logs, methods=["GET"], summary="List audit logs")
router.add_api_route(
    "/api/admin/audit/logs", _list_logs, methods=["GET"], summary="List audit logs (admin path)"
)


@router.get("/api/audit/verify", summary="Verify the audit hash chain")
async def verify_chain(actor: AuditReader) -> Envelope[ChainVerification]:
    """Recompute the hash chain and report the first broken sequence number, if any."""
    report = await service.verify_chain()
    return ok(ChainVerification(
        valid=report.valid, checked=report.checked,
        first_broken_seq=report.first_broken_seq, pending=report.pending,
    ))
