from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.appeals import service
from app.appeals.models import Appeal, AppealStatus
from app.appeals.schemas import AppealCreate, AppealDecision, AppealRead
from app.auth.dependencies import CurrentAccount, require
from app.core.errors import responses
from app.core.pagination import Pagination
from app.core.permissions import Permission
from app.core.schemas import Envelope, Page, ok

router = APIRouter(tags=["Appeals"], responses=responses(401, 403))
AppealId = Annotated[str, Path(alias="appealId", max_length=64)]
StatusFilter = Annotated[AppealStatus | None, Query(description="Only appeals in this status")]
AppealFiler = require(Permission.APPEALS_FILE)
AppealDecider = require(Permission.APPEALS_DECIDE)


def _read(appeal: Appeal) -> AppealRead:
    return AppealRead.model_validate(appeal).model_copy(
        update={"allowed_actions": service.actions_for(appeal)}
    )


def _page(appeals: list[Appeal], next_cursor: str | None) -> Page[AppealRead]:
    return Page[AppealRead](items=[_read(appeal) for appeal in appeals], next_cursor=next_cursor)


@router.post("/api/appeals", status_code=201, responses=responses(409, 422))
async def file_appeal(
    body: AppealCreate, actor: AppealFiler, account: CurrentAccount
) -> Envelope[AppealRead]:
    """Appeal your account's suspension (a suspended dealer or technician; one open appeal at
    a time, 409 otherwise or when the account is not suspended)."""
    appeal = await service.file_appeal(actor, account, body)
    return ok(_read(appeal), "Appeal filed; an admin will decide it")


@router.get("/api/appeals")
async def list_my_appeals(
    actor: AppealFiler, page: Pagination, status: StatusFilter = None
) -> Envelope[Page[AppealRead]]:
    """Your own appeals, newest first."""
    return ok(_page(*await service.list_visible(actor, status, page)))


@router.get("/api/appeals/{appealId}", responses=responses(404))
async def get_my_appeal(appeal_id: AppealId, actor: AppealFiler) -> Envelope[AppealRead]:
    """One of your own appeals, with its decision once made."""
    return ok(_read(await service.get_visible(actor, appeal_id)))


@router.get("/api/admin/appeals", tags=["Admin"])
async def list_appeals(
    actor: AppealDecider, page: Pagination, status: StatusFilter = None
) -> Envelope[Page[AppealRead]]:
    """Every suspension appeal, newest first (`status=open`: those awaiting a decision)."""
    return ok(_page(*await service.list_visible(actor, status, page)))


@router.get("/api/admin/appeals/{appealId}", tags=["Admin"], responses=responses(404))
async def get_appeal(appeal_id: AppealId, actor: AppealDecider) -> Envelope[AppealRead]:
    """One suspension appeal."""
    return ok(_read(await service.get_visible(actor, appeal_id)))


@router.patch("/api/admin/appeals/{appealId}", tags=["Admin"],
              responses=responses(404, 409, 422))
async def decide_appeal(
    appeal_id: AppealId, body: AppealDecision, actor: AppealDecider
) -> Envelope[AppealRead]:
    """Decide an open appeal: `uphold` keeps the account suspended; `reinstate` makes it
    active again and approves the dealer or technician profile its suspension stopped
    (audited, one transaction; a decided appeal is 409)."""
    appeal = await service.decide(actor, appeal_id, body)
    return ok(_read(appeal), f"Appeal {appeal.status.value}")
