"""What the dealer's and the technician's own dashboards show."""

from pydantic import Field

from app.catalog.schemas import InventoryItemRead
from app.core.schemas import APIModel, Paise
from app.repairs.schemas import RepairRead


class LowStock(APIModel):
    count: int = Field(description="Products with at most `threshold` units available")
    threshold: int
    items: list[InventoryItemRead] = Field(description="The lowest few, fewest available first")


class DealerDashboard(APIModel):
    dealer_id: str
    orders_by_status: dict[str, int] = Field(description="Every order status with its count")
    sales_this_month: Paise = Field(
        description="Total of the orders placed this month (UTC) that were paid and not cancelled")
    payable: Paise = Field(description="What the ledger owes the dealer now (its payable balance)")
    pending_escrow: Paise = Field(description="Captured for its orders, still held in escrow")
    paid_out: Paise = Field(description="The sum of its paid payouts")
    low_stock: LowStock


class RatingFigures(APIModel):
    average: float
    count: int
    distribution: dict[str, int] = Field(description="Ratings per score, \"1\" to \"5\"")


class OfferFigures(APIModel):
    received: int
    accepted: int
    declined: int
    expired: int
    withdrawn: int = Field(description="Taken back: the job was reassigned or cancelled")
    acceptance_rate: float | None = Field(
        description="accepted / received (2 decimals); null before the first offer")


class TechnicianDashboard(APIModel):
    technician_id: str
    live_offer: RepairRead | None = Field(description="The repair offered to you now, if any")
    jobs_by_status: dict[str, int] = Field(description="Every repair status with its count")
    earnings_this_month: Paise = Field(
        description="Released to your payable this month (UTC), after commission")
    payable: Paise = Field(description="What the ledger owes you now (your payable balance)")
    rating: RatingFigures
    offers: OfferFigures
