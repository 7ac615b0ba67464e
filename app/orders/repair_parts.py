"""Parts bought for a repair job. The repairs domain reads orders (a quote's part line names
a paid parts order), so it plugs in here at start-up instead of orders importing it: it says
who may name a job on an order, and records the order on the job in the order's transaction."""

from typing import Protocol

from app.core.database import Session
from app.core.permissions import Actor
from app.orders.exceptions import OrderInputInvalid
from app.orders.models import Order


class RepairParts(Protocol):
    async def check_parts_buyer(self, actor: Actor, repair_id: str) -> None: ...

    async def link_parts_order(
        self, session: Session, actor: Actor, repair_id: str, order_id: str
    ) -> None: ...


_repair_parts: list[RepairParts] = []


def register_repair_parts(parts: RepairParts) -> None:
    _repair_parts[:] = [parts]


async def check_buyer(actor: Actor, repair_id: str) -> None:
    """422 unless `actor` is the assigned technician of the job, before its completion."""
    if not _repair_parts:
        raise OrderInputInvalid("body.repairId", "repair jobs are not available")
    await _repair_parts[0].check_parts_buyer(actor, repair_id)


async def link(session: Session, actor: Actor, order: Order) -> None:
    """In the order's transaction: the job lists the order among its parts."""
    if order.repair_id is not None:
        if not _repair_parts:
            raise OrderInputInvalid("body.repairId", "repair jobs are not available")
        await _repair_parts[0].link_parts_order(session, actor, order.repair_id, order.id)
