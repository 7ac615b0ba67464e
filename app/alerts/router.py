from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.alerts import service
from app.alerts.models import AlertKind
from app.alerts.schemas import AlertAcknowledge, AlertRead
from app.auth.dependencies import require
from app.core.errors import responses
from app.core.pagination import Pagination
from app.core.permissions import Permission
from app.core.schemas import Envelope, Page, ok

router = APIRouter(prefix="/api/admin/alerts", tags=["Admin"], responses=responses(401, 403))
AlertManager = require(Permission.ALERTS_MANAGE)


@router.get("")
async def list_alerts(
    actor: AlertManager,
    page: Pagination,
    open_only: Annotated[bool | None, Query(alias="open")] = None,
    kind: AlertKind | None = None,
) -> Envelope[Page[AlertRead]]:
    """SLA alerts (stuck payments, overdue escrow), newest first."""
    alerts, next_cursor = await service.list_alerts(open_only, kind, page)
    return ok(Page[AlertRead](items=[AlertRead.model_validate(a) for a in alerts],
                              next_cursor=next_cursor))


@router.patch("/{alertId}", responses=responses(404, 409, 422))
async def acknowledge_alert(
    alert_id: Annotated[str, Path(alias="alertId", max_length=64)],
    body: AlertAcknowledge,
    actor: AlertManager,
) -> Envelope[AlertRead]:
    """Acknowledge an alert (audited)."""
    service.require_acknowledgement(body.acknowledged)
    return ok(AlertRead.model_validate(await service.acknowledge(actor, alert_id, body.note)))
