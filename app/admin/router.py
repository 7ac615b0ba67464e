from fastapi import APIRouter

from app.admin import party_dashboards
from app.admin.dashboard_schemas import DealerDashboard, TechnicianDashboard
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
