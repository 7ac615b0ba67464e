"""Assignment: the offered technician accepts or declines; admins with repairs:assign assign
or reassign a job to a technician (taking it from one who accepted it: the ops leader's
override) (an offer made the same way matching makes one); offers
expire. An accept racing the expiry, a decline or a reassign: each is a conditional update
on the job's status and version (and on the offer's technician and expiry), so one wins."""

from pymongo.errors import DuplicateKeyError

from app.core import clock
from app.core.database import Session, transaction
from app.core.errors import OverrideForbidden, ReasonRequired
from app.core.permissions import SYSTEM_ACTOR, Actor, Permission
from app.repairs import matching
from app.repairs import repository as repo
from app.repairs.exceptions import (
    SKILL_MISMATCH,
    TECHNICIAN_UNAVAILABLE,
    IllegalRepairTransition,
    RepairRuleViolation,
)
from app.repairs.models import IssueType, OfferOutcome, Repair, RepairMode, RepairStatus
from app.repairs.moves import Step, apply_step
from app.repairs.schemas import AssignmentAction, AssignmentIn
from app.repairs.service import authorise, changed_meanwhile, parties, visible_repair
from app.repairs.transitions import Party, RepairAction, resolve
from app.technicians import service as technicians_service
from app.technicians.models import Skill, TechnicianStatus

A = RepairAction


async def change_assignment(actor: Actor, repair_id: str, data: AssignmentIn) -> Repair:
    repair = await visible_repair(actor, repair_id)
    action = RepairAction(data.action.value)
    _, party = authorise(repair, action, parties(actor, repair))
    if data.action is AssignmentAction.ACCEPT:
        return await accept(actor, repair, party)
    if data.action is AssignmentAction.DECLINE:
        return await decline(actor, repair, party, data.reason)
    return await assign(actor, repair, action, party, data)


async def accept(actor: Actor, repair: Repair, party: Party) -> Repair:
    now = clock.utcnow()
    assert repair.offer is not None
    technician_id = repair.offer.technician_id
    if repair.offer.expires_at <= now:
        raise IllegalRepairTransition("The offer has expired", {"status": repair.status.value})
    due = (repair.scheduled_at or now) if repair.mode is RepairMode.OFFLINE else None
    step = Step(A.ACCEPT, party, RepairStatus.ACCEPTED, technician_id=technician_id,
                changes={"offer": None, "technician_id": technician_id,
                         "technician_user_id": actor.id, "accepted_at": now,
                         "start_due_at": due, "start_overdue_alerted_at": None},
                extra_filter={"offer.technician_id": technician_id,
                              "offer.expires_at": {"$gt": now}})

    async def work(session: Session) -> Repair | None:
        moved = await apply_step(session, actor, repair, step)
        if moved is not None:
            await repo.decide_offer(session, repair.id, technician_id, OfferOutcome.ACCEPTED)
        return moved

    accepted = await transaction(work)
    if accepted is None:
        raise await changed_meanwhile(repair.id)
    return accepted


async def _give_back(actor: Actor, repair: Repair, step: Step, outcome: OfferOutcome) -> Repair | None:
    """`step` (decline, expire) returns the job to its pool; hardware jobs are offered to
    the next candidate in the same transaction."""
    assert repair.offer is not None
    technician_id = repair.offer.technician_id

    async def first(session: Session) -> Repair | None:
        moved = await apply_step(session, actor, repair, step)
        if moved is not None:
            await repo.decide_offer(session, repair.id, technician_id, outcome)
        return moved

    moved = await matching.commit_and_match(actor, repair, first)
    if moved is not None:
        await matching.check_acceptance(technician_id)
    return moved


async def decline(actor: Actor, repair: Repair, party: Party, reason: str | None) -> Repair:
    assert repair.offer is not None
    technician_id = repair.offer.technician_id
    step = Step(A.DECLINE, party, resolve("pool", repair.issue_type), reason=reason,
                changes={"offer": None}, technician_id=technician_id,
                extra_filter={"offer.technician_id": technician_id})
    moved = await _give_back(actor, repair, step, OfferOutcome.DECLINED)
    if moved is None:
        raise await changed_meanwhile(repair.id)
    return moved


async def expire_offer(repair: Repair) -> Repair | None:
    """The offer ran out: the next candidate (hardware) or the admins' queue (software);
    None when the job was accepted, declined or reassigned first."""
    if repair.offer is None:
        return None
    now = clock.utcnow()
    technician_id = repair.offer.technician_id
    step = Step(A.EXPIRE, Party.SYSTEM, resolve("pool", repair.issue_type),
                reason="The offer expired", changes={"offer": None}, technician_id=technician_id,
                extra_filter={"offer.technician_id": technician_id,
                              "offer.expires_at": {"$lte": now}})
    return await _give_back(SYSTEM_ACTOR, repair, step, OfferOutcome.EXPIRED)


async def _choice_for(repair: Repair, technician_id: str | None) -> matching.Choice:
    """The technician an admin names, if it may be offered this job now (422 otherwise)."""
    if not technician_id:
        raise RepairRuleViolation(None, "body.technicianId", "required to assign or reassign")
    technician = await technicians_service.get_technician(technician_id)
    if technician is None or technician.status is not TechnicianStatus.APPROVED:
        raise RepairRuleViolation(TECHNICIAN_UNAVAILABLE, "body.technicianId",
                                  "not an approved technician")
    skill = Skill.SOFTWARE if repair.issue_type is IssueType.SOFTWARE else Skill.HARDWARE
    if skill not in technician.skills:
        raise RepairRuleViolation(SKILL_MISMATCH, "body.technicianId",
                                  f"a {repair.issue_type.value} repair needs a technician with "
                                  f"the {skill.value} skill")
    if technician_id in repair.offered_technician_ids:
        raise RepairRuleViolation(TECHNICIAN_UNAVAILABLE, "body.technicianId",
                                  "this technician was offered this repair already")
    if await repo.busy_technicians([technician_id]) or await repo.holding_live_offers(
            [technician_id]):
        raise RepairRuleViolation(TECHNICIAN_UNAVAILABLE, "body.technicianId",
                                  "this technician is busy with another repair or offer")
    return matching.Choice(technician.id, technician.user_id)


async def assign(actor: Actor, repair: Repair, action: RepairAction, party: Party,
                 data: AssignmentIn) -> Repair:
    """assign / reassign: offer the job to the technician an admin names."""
    # Taking a job from a technician who accepted it is an override of the normal flow.
    override = action is A.REASSIGN and repair.status is not RepairStatus.OFFERED
    if override and not actor.can(Permission.REPAIRS_OVERRIDE):
        raise OverrideForbidden("Only the ops leader may reassign a job its technician accepted",
                                {"status": repair.status.value})
    if action is A.REASSIGN and not data.reason:
        raise ReasonRequired("A reason is required to reassign a repair")
    choice = await _choice_for(repair, data.technician_id)
    previous = repair.offer.technician_id if repair.offer else None

    async def work(session: Session) -> Repair | None:
        result = await matching.offer_step(session, actor, repair, choice, action=action,
                                           party=party, reason=data.reason, override=override)
        if result is not None and previous:
            await repo.decide_offer(session, repair.id, previous, OfferOutcome.WITHDRAWN)
        return result

    try:
        result = await transaction(work)
    except DuplicateKeyError:
        raise RepairRuleViolation(TECHNICIAN_UNAVAILABLE, "body.technicianId",
                                  "this technician was just offered another repair") from None
    if result is None:
        raise await changed_meanwhile(repair.id)
    return result
