from typing import Annotated

from fastapi import APIRouter, Path

from app.admin import evidence, party_dashboards
from app.admin.dashboard_schemas import DealerDashboard, TechnicianDashboard
from app.admin.evidence_schemas import DisputeEvidence
from app.auth.dependencies import require
from app.core.errors import responses
from app.core.permissions import Permission
from app.core.schemas import Envelope, ok

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
