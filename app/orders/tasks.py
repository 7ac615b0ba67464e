"""Background jobs of the orders domain."""

from app.orders import service

# Reservations last minutes; expiring them within seconds of their deadline is plenty.
EXPIRY_INTERVAL_SECONDS = 5.0


async def expire_reservations() -> bool:
    """Expire pending orders whose stock reservation ran out, releasing their stock."""
    return await service.expire_due_reservations()


async def confirm_deliveries() -> bool:
    """Remind buyers, then confirm delivery of shipped orders nobody confirmed in time."""
    return await service.confirm_overdue_deliveries()
