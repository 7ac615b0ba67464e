"""The governance console's routes: the admin dashboard, the approval queue, the overrides,
a dispute's evidence, and the dealer's and the technician's own dashboards."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.admin import approvals, console, evidence, overrides, party_dashboards
from app.admin.schemas import (
    AdminDashboard,
    ApprovalItem,
    DealerDashboard,
    DisputeEvidence,
    OverrideRead,
    TechnicianDashboard,
)
from app.auth.dependencies import require
from app.core.errors import responses
from app.core.pagination import Pagination
from app.core.permissions import Permission
from app.core.schemas import Envelope, Page, ok
from app.core.validators import IsoDatetime

router = APIRouter(tags=["Admin"], responses=responses(401, 403))


# --- the dealer's and the technician's own dashboards ------------------------------------

DashboardDealer = require(Permission.DEALER_DASHBOARD)
DashboardTechnician = require(Permission.TECHNICIAN_DASHBOARD)


@router.get("/api/dealers/me/dashboard", tags=["Dealers"])
async def dealer_dashboard(actor: DashboardDealer) -> Envelope[DealerDashboard]:
    """The calling dealer's figures: orders by status, sales this month, payable, pending
    escrow, paid out and low-stock products (an approved dealer; 403 otherwise)."""
    return ok(await party_dashboards.dealer_dashboard(actor))


@router.get("/api/technicians/me/dashboard", tags=["Technicians"])
async def technician_dashboard(actor: DashboardTechnician) -> Envelope[TechnicianDashboard]:
    """The calling technician's figures: the live offer, jobs by status, earnings this month,
    payable, rating (average, count, distribution) and offers with the acceptance rate
    (accepted / received) (an approved technician; 403 otherwise)."""
    return ok(await party_dashboards.technician_dashboard(actor))


# --- dispute evidence ----------------------------------------------------------------------

EvidenceReader = require(Permission.DISPUTES_EVIDENCE)
DisputeId = Annotated[str, Path(alias="disputeId", max_length=64)]


@router.get("/api/admin/disputes/{disputeId}/evidence", tags=["Disputes"],
            responses=responses(404))
async def dispute_evidence(dispute_id: DisputeId, actor: EvidenceReader) -> Envelope[DisputeEvidence]:
    """Everything recorded about a dispute's order or repair, in one document (ops and
    compliance): its status timeline, the payment with its refunds and ledger postings, the
    job's chat transcript with media references (ids, type, size; not the bytes), its call
    logs, the delivery (orders), the consents and remote-session logs (software repairs).
    Each item carries the `seq` of its audit entry, to look up in the audit trail."""
    return ok(await evidence.dispute_evidence(actor, dispute_id))


# --- the governance console ---------------------------------------------------------------
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
    since: Annotated[IsoDatetime | None, Query(alias="from", description="at or after")] = None,
    until: Annotated[IsoDatetime | None, Query(alias="to", description="before")] = None,
) -> Envelope[Page[OverrideRead]]:
    """Every use of an override right (compliance, ops_lead), newest first: early escrow
    releases, deliveries marked for the buyer, disputes resolved before delivery, repairs
    reassigned after acceptance, blocks lifted … each with its reason and who used it."""
    items, next_cursor = await overrides.page(actor, since, until, page)
    return ok(Page[OverrideRead](items=items, next_cursor=next_cursor))
