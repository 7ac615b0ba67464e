"""The dealer's and the technician's own dashboards: each figure is one indexed query or
aggregation, or a maintained counter (the ledger's cached balances, the technician's rating
counters, the repair offer tallies)."""

from datetime import datetime

from app.admin.schemas import (
    DealerDashboard,
    LowStock,
    OfferFigures,
    RatingFigures,
    TechnicianDashboard,
)
from app.catalog import inventory
from app.core import clock
from app.core.permissions import Actor
from app.dealers import service as dealers_service
from app.orders import queries as orders_queries
from app.orders.models import OrderStatus
from app.payments.ledger import accounts as ledger_accounts
from app.payments.ledger import service as ledger
from app.payouts import reads as payout_reads
from app.repairs import service as repairs_service
from app.repairs.models import RepairStatus
from app.technicians import service as technicians_service
from app.technicians.exceptions import TechnicianNotApproved
from app.technicians.models import TechnicianStatus

LOW_STOCK_SHOWN = 5


def month_start(now: datetime | None = None) -> datetime:
    """The first instant of the current calendar month, UTC."""
    now = now or clock.utcnow()
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def dealer_dashboard(actor: Actor) -> DealerDashboard:
    """The calling dealer's figures; refused like its selling routes unless it is approved."""
    dealer = await dealers_service.require_selling_dealer(actor)
    counts = await orders_queries.dealer_status_counts(actor, dealer.id)
    low_count, low_items = await inventory.low_stock(actor, dealer.id, LOW_STOCK_SHOWN)
    return DealerDashboard(
        dealer_id=dealer.id,
        orders_by_status={status.value: counts.get(status.value, 0) for status in OrderStatus},
        sales_this_month=await orders_queries.dealer_sales_since(actor, dealer.id, month_start()),
        payable=await ledger.cached_balance(ledger_accounts.payable(dealer.id)),
        pending_escrow=await ledger.pending_escrow(dealer.id),
        paid_out=await payout_reads.paid_out(dealer.id),
        low_stock=LowStock(count=low_count, threshold=inventory.LOW_STOCK_THRESHOLD,
                           items=low_items),
    )


async def technician_dashboard(actor: Actor) -> TechnicianDashboard:
    """The calling technician's figures; 403 unless its profile is approved."""
    technician = await technicians_service.get_own(actor)
    if technician.status is not TechnicianStatus.APPROVED:
        raise TechnicianNotApproved
    offered = await repairs_service.offers_waiting(actor)
    counts = await repairs_service.job_counts(actor, technician.id)
    tally = await repairs_service.offer_tally(technician.id)
    return TechnicianDashboard(
        technician_id=technician.id,
        live_offer=repairs_service.read_model(offered[0], actor) if offered else None,
        jobs_by_status={status.value: counts.get(status.value, 0) for status in RepairStatus},
        earnings_this_month=await ledger.released_since(technician.id, month_start()),
        payable=await ledger.cached_balance(ledger_accounts.payable(technician.id)),
        rating=RatingFigures(average=round(technician.rating_average, 2),
                             count=technician.rating_count,
                             distribution=technician.rating_distribution),
        offers=OfferFigures(
            received=tally.received, accepted=tally.accepted, declined=tally.declined,
            expired=tally.expired, withdrawn=tally.withdrawn,
            acceptance_rate=round(tally.accepted / tally.received, 2) if tally.received else None,
        ),
    )
