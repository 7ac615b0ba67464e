"""The governance console's routes: the dashboard, the approval queue and the overrides."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from app.admin import approvals, console, overrides
from app.admin.console_schemas import AdminDashboard, ApprovalItem, OverrideRead
from app.auth.dependencies import require
from app.core.errors import responses
from app.core.pagination import Pagination
from app.core.permissions import Permission
from app.core.schemas import Envelope, Page, ok

router = APIRouter(tags=["Admin"], responses=responses(401, 403))
GovernanceReader = require(Permission.GOVERNANCE_READ)
OverridesReader = require(Permission.OVERRIDES_READ)


@router.get("/api/admin/dashboard", response_model=Envelope[AdminDashboard])
async def admin_dashboard(actor: GovernanceReader) -> Envelope[AdminDashboard]:
    """The platform at a glance (any admin): pending approvals per kind, open disputes, escrow
    held (count and paise), payments stuck, open alerts, repairs unassigned and overrides of
    the last 30 days — each one indexed count or aggregation."""
    return ok(await console.dashboard(actor))


@router.get("/api/admin/approvals", response_model=Envelope[Page[ApprovalItem]],
            responses=responses(400))
async def approval_queue(actor: GovernanceReader, page: Pagination) -> Envelope[Page[ApprovalItem]]:
    """Everything awaiting an admin decision (any admin), oldest first: dealers and technicians
    pending approval, B2B buyers awaiting business verification, payout accounts awaiting
    verification. Each item names the route that decides it (`decideWith`). Paged with
    `limit` and `cursor` (the last page's `nextCursor`)."""
    items, next_cursor = await approvals.page(actor, page)
    return ok(Page[ApprovalItem](items=items, next_cursor=next_cursor))


@router.get("/api/admin/overrides", response_model=Envelope[Page[OverrideRead]],
            responses=responses(400))
async def override_log(
    actor: OverridesReader,
    page: Pagination,
    since: Annotated[datetime | None, Query(alias="from", description="at or after")] = None,
    until: Annotated[datetime | None, Query(alias="to", description="before")] = None,
) -> Envelope[Page[OverrideRead]]:
    """Every use of an override right (compliance, ops_lead), newest first: early escrow
    releases, deliveries marked for the buyer, disputes resolved before delivery, repairs
    reassigned after acceptance, blocks lifted … each with its reason and who used it."""
    items, next_cursor = await overrides.page(actor, since, until, page)
    return ok(Page[OverrideRead](items=items, next_cursor=next_cursor))
