"""What payments read for others: lists, the ledger verifier's expectations, the governance
dashboard's and the metrics' figures, a dispute's refunds."""

from datetime import timedelta
from typing import Any

from app.core import clock
from app.core.config import settings
from app.core.pagination import PageRequest
from app.core.permissions import Actor
from app.payments import repository
from app.payments.models import Payment, Refund


async def list_payments(
    actor: Actor, page: PageRequest, filters: dict[str, Any]
) -> tuple[list[Payment], str | None]:
    """The payments `actor` may see (payer, payee dealer, admins: all), filtered."""
    return await repository.list_visible(actor, page, filters)


async def escrow_expectations() -> dict[str, int]:
    """Payment id → what its escrow account should hold, for the ledger verifier."""
    return await repository.escrow_expectations()


async def captured_payees() -> dict[str, str]:
    """Payment id → its payee (an order's dealer, a repair's technician)."""
    return await repository.captured_payees()


async def refund_in_flight_expectations() -> dict[str, int]:
    """Payment id → what its refunds in flight should hold (its pending refunds)."""
    return await repository.in_flight_refund_amounts()


async def escrow_held(actor: Actor) -> tuple[int, int]:
    """(payments whose escrow holds money, paise held), for the governance dashboard."""
    return await repository.escrow_held(actor)


async def count_stuck(actor: Actor) -> int:
    """Payments `created` longer than PAYMENT_STUCK_AFTER_MINUTES (the SLA job alerts on
    each), for the governance dashboard."""
    stuck_after = timedelta(minutes=settings().escrow.payment_stuck_after_minutes)
    return await repository.count_created_before(actor, clock.utcnow() - stuck_after)


async def count_by_status() -> dict[str, int]:
    """Payments in each status (the metrics' gauge)."""
    return await repository.count_by_status()


async def refunds_of(payment_id: str) -> list[Refund]:
    """A payment's refunds, oldest first."""
    return await repository.refunds_of(payment_id)
