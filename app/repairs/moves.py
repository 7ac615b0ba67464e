"""One transition's write: the conditional update of the job, its statusHistory entry and its
audit entry, in the caller's transaction. Every use case (booking, matching, assignment,
lifecycle, timers) moves a job only through `apply_step`."""

from dataclasses import dataclass, field
from typing import Any

from app.audit import service as audit
from app.core import clock
from app.core.database import Session
from app.core.permissions import Actor
from app.repairs import repository as repo
from app.repairs.models import Repair, RepairStatus, StatusChange
from app.repairs.transitions import Party, RepairAction

ROLE_OF_PARTY = {Party.CUSTOMER: "customer", Party.TECHNICIAN: "technician",
                 Party.OFFERED: "technician", Party.ADMIN: "admin", Party.SYSTEM: "system"}

# What a job keeps of an accepted technician: cleared when it goes back to matching.
NO_TECHNICIAN: dict[str, Any] = {"technician_id": None, "technician_user_id": None,
                                 "accepted_at": None, "start_due_at": None,
                                 "start_overdue_alerted_at": None}


@dataclass
class Step:
    """One move of the transition table, as written."""

    action: RepairAction
    party: Party
    target: RepairStatus
    reason: str | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    extra_filter: dict[str, Any] | None = None
    technician_id: str | None = None  # who was offered, accepted, declined, left
    offered: str | None = None  # joins the technicians never offered this job again
    override: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)

    def entry(self, repair: Repair, actor: Actor) -> StatusChange:
        return StatusChange(
            from_status=repair.status, to_status=self.target, action=self.action.value,
            reason=self.reason, by=actor.id, role=ROLE_OF_PARTY[self.party],
            technician_id=self.technician_id, at=clock.utcnow(),
        )


async def apply_step(session: Session, actor: Actor, repair: Repair, step: Step) -> Repair | None:
    """Move the job if it is still at the status and version read; None (nothing written)
    when it moved on meanwhile."""
    moved = await repo.move(
        session, repair, {"status": step.target.value, **step.changes},
        [step.entry(repair, actor)], step.extra_filter, step.offered,
    )
    if moved is None:
        return None
    metadata = {"party": step.party.value, **step.metadata}
    if step.technician_id:
        metadata["technicianId"] = step.technician_id
    await audit.record(
        session, actor=actor, action=f"repair.{step.action.value}", subject_type="repair",
        subject_id=repair.id, changes={"status": {"from": repair.status, "to": step.target}},
        reason=step.reason, override=step.override, metadata=metadata,
    )
    return moved


async def record_booking(session: Session, actor: Actor, repair: Repair) -> None:
    """Insert a new job with its audit entry."""
    await repo.insert(session, repair)
    await audit.record(
        session, actor=actor, action="repair.book", subject_type="repair", subject_id=repair.id,
        changes={"status": {"from": None, "to": repair.status}},
        metadata={"issueType": repair.issue_type.value, "mode": repair.mode.value,
                  "imeiGiven": repair.imei_sealed is not None},
    )
