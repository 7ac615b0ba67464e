"""The admin dashboard: each figure one indexed count or aggregation in its own domain."""

import asyncio
from datetime import timedelta

from app.admin import approvals
from app.admin.schemas import AdminDashboard, EscrowHeld
from app.alerts import service as alerts_service
from app.audit import service as audit_service
from app.core import clock
from app.core.permissions import Actor
from app.disputes import service as disputes_service
from app.payments import reads as payments_reads
from app.repairs import service as repairs_service

OVERRIDES_WINDOW = timedelta(days=30)


async def dashboard(actor: Actor) -> AdminDashboard:
    (pending, disputes, (held_count, held_amount), stuck, alerts, unassigned,
     overrides) = await asyncio.gather(
        approvals.counts(actor),
        disputes_service.count_open(actor),
        payments_reads.escrow_held(actor),
        payments_reads.count_stuck(actor),
        alerts_service.count_open(actor),
        repairs_service.count_unassigned(actor),
        audit_service.count_overrides_since(actor, clock.utcnow() - OVERRIDES_WINDOW),
    )
    return AdminDashboard(
        pending_approvals=pending, open_disputes=disputes,
        escrow_held=EscrowHeld(count=held_count, amount=held_amount), payments_stuck=stuck,
        open_alerts=alerts, repairs_unassigned=unassigned, overrides_last_30_days=overrides,
    )
