"""The lifecycle: status actions of the transition table (travel, arrive, start, complete,
cancel), and the timers' re-matching of a job not started long past its time.

A technician who cancels gives the job back: hardware jobs are re-matched inside the same
request (never to that technician again), software jobs return to the admins' queue.
`complete` does not wait for payment: release needs `completed` and a captured payment."""

from typing import Any

from app.core import clock
from app.core.config import settings
from app.core.database import Session, transaction
from app.core.errors import OverrideForbidden, ReasonRequired
from app.core.permissions import SYSTEM_ACTOR, Actor, Permission
from app.repairs import matching
from app.repairs import repository as repo
from app.repairs.exceptions import RepairRuleViolation
from app.repairs.models import OfferOutcome, Repair, RepairStatus
from app.repairs.moves import NO_TECHNICIAN, Step, apply_step
from app.repairs.schemas import RepairStatusIn
from app.repairs.service import authorise, changed_meanwhile, parties, visible_repair
from app.repairs.transitions import AFTER_ACCEPTANCE, POOL, Move, Party, RepairAction, resolve
from app.technicians import service as technicians_service

A = RepairAction


def _step(actor: Actor, repair: Repair, action: RepairAction, move: Move, party: Party,
          data: RepairStatusIn) -> Step:
    # An admin moving someone else's job is an override of the normal flow.
    if party is Party.ADMIN and not actor.can(Permission.REPAIRS_OVERRIDE):
        raise OverrideForbidden(f"Only the ops leader may {action.value} a repair as an admin",
                                {"status": repair.status.value})
    if move.needs_reason(party) and not data.reason:
        raise ReasonRequired(f"A reason is required for a {party.value} to {action.value}")
    if action is A.COMPLETE and not data.resolution_notes:
        raise RepairRuleViolation(None, "body.resolutionNotes", "required to complete a repair")
    if data.resolution_notes and action is not A.COMPLETE:
        raise RepairRuleViolation(None, "body.resolutionNotes", "only allowed to complete")
    now = clock.utcnow()
    target = resolve(move.targets[party], repair.issue_type)
    changes: dict[str, Any] = {}
    technician_id = repair.technician_id
    if action is A.START:
        changes["started_at"] = now
    elif action is A.COMPLETE:
        changes.update(completed_at=now, resolution_notes=data.resolution_notes)
    elif action is A.CANCEL and target is RepairStatus.CANCELLED:
        changes.update(cancelled_at=now, offer=None)
        if party is Party.CUSTOMER and repair.status in AFTER_ACCEPTANCE:
            changes["cancellation_fee"] = settings().repairs.cancellation_fee
        technician_id = technician_id or (repair.offer.technician_id if repair.offer else None)
    elif action is A.CANCEL:  # the technician gives the job back
        changes.update(NO_TECHNICIAN)
    return Step(action, party, target, reason=data.reason, changes=changes,
                technician_id=technician_id, override=party is Party.ADMIN,
                metadata={"cancellationFee": changes["cancellation_fee"]}
                if "cancellation_fee" in changes else {})


async def change_status(actor: Actor, repair_id: str, data: RepairStatusIn) -> Repair:
    """Move a job by one status action, as the caller's party (404 / 403 / 409 / 422)."""
    repair = await visible_repair(actor, repair_id)
    action = RepairAction(data.action.value)
    move, party = authorise(repair, action, parties(actor, repair))
    step = _step(actor, repair, action, move, party, data)
    if move.targets[party] == POOL:
        moved = await give_back(actor, repair, step)
    else:
        moved = await transaction(lambda session: _apply(session, actor, repair, step))
    if moved is None:
        raise await changed_meanwhile(repair.id)
    return moved


async def _apply(session: Session, actor: Actor, repair: Repair, step: Step) -> Repair | None:
    moved = await apply_step(session, actor, repair, step)
    if moved is None:
        return None
    if repair.offer is not None and step.target is RepairStatus.CANCELLED:
        await repo.decide_offer(session, repair.id, repair.offer.technician_id,
                                OfferOutcome.WITHDRAWN)
    if step.target is RepairStatus.COMPLETED and repair.technician_id:
        await technicians_service.count_completed_job(session, repair.technician_id)
    return moved


async def give_back(actor: Actor, repair: Repair, step: Step) -> Repair | None:
    """The job goes back to its pool (`step`), re-matched in the same transaction."""
    return await matching.commit_and_match(
        actor, repair, lambda session: apply_step(session, actor, repair, step))


async def rematch_unstarted(repair: Repair) -> Repair | None:
    """An accepted job not started long past its time goes back to matching (the timers)."""
    step = Step(A.REMATCH, Party.SYSTEM, resolve(POOL, repair.issue_type),
                reason="Not started in time after the overdue alert", changes=dict(NO_TECHNICIAN),
                technician_id=repair.technician_id)
    return await give_back(SYSTEM_ACTOR, repair, step)
