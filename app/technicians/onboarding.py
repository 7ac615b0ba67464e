"""Onboarding: a technician submits a profile, edits it, and admins approve, reject, suspend,
block or reinstate it; the account follows the profile as a dealer's does."""

from typing import Any

from pymongo.errors import DuplicateKeyError

from app.audit import service as audit
from app.core.database import Session, transaction
from app.core.errors import OverrideForbidden, ReasonRequired, RuleViolation
from app.core.permissions import AccountStatus, Actor, Permission
from app.notifications import notices
from app.platform_rules import service as platform_rules_service
from app.technicians import repository
from app.technicians.exceptions import (
    IllegalTechnicianTransition,
    NameRequired,
    NotYourTechnicianProfile,
    ProfileNotEditable,
    SkillsByAdminsOnly,
    TechnicianNotFound,
    TechnicianProfileExists,
)
from app.technicians.models import (
    Certification,
    LatLng,
    StatusChange,
    Technician,
    TechnicianStatus,
)
from app.technicians.schemas import (
    TechnicianAction,
    TechnicianCommissionTierIn,
    TechnicianCreate,
    TechnicianStatusIn,
    TechnicianUpdate,
)
from app.technicians.service import get_private, search_entry
from app.technicians.transitions import allowed_actions, move_for
from app.users import service as users_service
from app.users.models import User

# The account follows these moves (its sessions end at once when suspended or blocked).
ACCOUNT_FOLLOWS: dict[TechnicianAction, AccountStatus] = {
    TechnicianAction.SUSPEND: AccountStatus.SUSPENDED,
    TechnicianAction.BLOCK: AccountStatus.BLOCKED,
    TechnicianAction.REINSTATE: AccountStatus.ACTIVE,
}
EDITABLE = frozenset({TechnicianStatus.PENDING, TechnicianStatus.APPROVED})


async def submit_profile(actor: Actor, data: TechnicianCreate) -> Technician:
    if actor.technician_id is not None:
        raise TechnicianProfileExists
    account = await users_service.get_account(actor.id)
    if account is None or not account.name:
        raise NameRequired
    technician = Technician(
        user_id=actor.id,
        name=account.name,
        skills=list(data.skills),
        specialities=data.specialities,
        certifications=[Certification(**c.model_dump()) for c in data.certifications],
        service_pincodes=data.service_pincodes,
        base_location=LatLng(**data.base_location.model_dump()),
        bio=data.bio,
        status_history=[StatusChange(from_status=None, to_status=TechnicianStatus.PENDING,
                                     action="submit", by=actor.id)],
    )

    async def work(session: Session) -> Technician:
        await repository.insert(session, technician)
        await users_service.link_technician_profile(session, actor.id, technician.id)
        await audit.record(
            session, actor=actor, action="technician.profile_submitted",
            subject_type="technician", subject_id=technician.id,
            changes={"status": {"from": None, "to": technician.status}},
            metadata={"skills": [s.value for s in technician.skills]},
        )
        return technician

    try:
        return await transaction(work)
    except DuplicateKeyError:
        raise TechnicianProfileExists from None


async def follow_account_name(session: Session, account: User, name: str) -> None:
    """The account was renamed (in `session`): its technician profile and search entry show
    the new name."""
    if account.technician_id is None:
        return
    technician = await repository.rename(session, account.technician_id, name)
    if technician is not None and technician.search_cell:
        cell, entry = search_entry(technician)
        await repository.move_search_entry(session, technician.id, technician.search_cell,
                                           cell, entry)


async def _editable_by(actor: Actor, technician_id: str, data: TechnicianUpdate) -> Technician:
    manager = actor.can(Permission.TECHNICIANS_MANAGE)
    if not manager and actor.technician_id != technician_id:
        raise NotYourTechnicianProfile
    if "skills" in data.model_fields_set and not manager:
        raise SkillsByAdminsOnly
    technician = await get_private(actor, technician_id)
    if technician.status not in EDITABLE:
        raise ProfileNotEditable(f"A {technician.status.value} technician profile cannot be edited",
                                 {"status": technician.status})
    return technician


async def update_profile(actor: Actor, technician_id: str, data: TechnicianUpdate) -> Technician:
    """The owner edits bio, specialities, certifications and service pincodes; admins with
    ops or compliance also skills (classification is theirs)."""
    technician = await _editable_by(actor, technician_id, data)
    changes: dict[str, Any] = {}
    for name in sorted(data.model_fields_set):
        value = getattr(data, name)
        if name == "certifications":
            value = [c.model_dump() for c in value or []]
        elif name == "skills":
            value = [s.value for s in value]
        changes[name] = value
    before = {name: _plain(getattr(technician, name)) for name in changes}

    async def work(session: Session) -> None:
        if not await repository.update_if_version(session, technician, changes):
            raise IllegalTechnicianTransition("The profile changed meanwhile; reload and retry")
        if "skills" in changes and technician.search_cell:
            # The search shows skills and filters on them: its entry follows.
            cell, found = search_entry(technician, skills=list(data.skills or []))
            await repository.move_search_entry(session, technician.id, technician.search_cell,
                                               cell, found)
        await audit.record(
            session, actor=actor, action="technician.profile_updated", subject_type="technician",
            subject_id=technician.id, changes=audit.diff(before, changes),
        )

    await transaction(work)
    return await get_private(actor, technician_id)


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if hasattr(value, "model_dump"):
        return value.model_dump()
    return getattr(value, "value", value)


async def change_status(
    actor: Actor, technician_id: str, change: TechnicianStatusIn, *, within: Session | None = None
) -> Technician:
    """Move a technician (its account follows). `within` joins the caller's transaction (an
    appeal's reinstatement): the technician is then returned as read before the move."""
    technician = await get_private(actor, technician_id)
    move = move_for(technician.status, change.action)
    if move is None:
        raise IllegalTechnicianTransition(
            f"Cannot {change.action.value} a technician that is {technician.status.value}",
            {"from": technician.status, "allowedActions": allowed_actions(technician.status)},
        )
    if move.override_by is not None and not actor.can(move.override_by):
        raise OverrideForbidden("Only the ops leader may lift a technician's block")
    if move.reason_required and not change.reason:
        raise ReasonRequired(f"A reason is required to {change.action.value} a technician")
    override = move.override_by is not None
    entry = StatusChange(from_status=technician.status, to_status=move.target,
                         action=change.action.value, reason=change.reason, by=actor.id)
    account_status = ACCOUNT_FOLLOWS.get(change.action)

    async def work(session: Session) -> None:
        # Every move leaves the technician unavailable: suspended or blocked ones at once;
        # approved or reinstated ones go available themselves with a fresh fix.
        off_duty = {"available": False, "search_cell": None}
        if not await repository.change_status(session, technician, entry, off_duty):
            raise IllegalTechnicianTransition("The technician changed meanwhile; reload and retry")
        await repository.move_search_entry(session, technician.id, technician.search_cell,
                                           None, None)
        if change.action is TechnicianAction.APPROVE:
            await users_service.activate_account(session, actor, technician.user_id,
                                                 "technician approved")
        elif account_status is not None:
            await users_service.follow_profile_status(
                session, actor, technician.user_id, account_status,
                change.reason or f"technician {change.action.value}",
                override=override,
                profile="technician profile",
            )
        await audit.record(
            session, actor=actor, action=f"technician.{change.action.value}",
            subject_type="technician", subject_id=technician.id,
            changes={"status": {"from": technician.status, "to": move.target},
                     "available": {"from": technician.available, "to": False}},
            reason=change.reason, override=override,
        )
        if change.action in (TechnicianAction.APPROVE, TechnicianAction.REJECT):
            await notices.technician_decided(
                session, technician_id=technician.id, user_id=technician.user_id,
                approved=change.action is TechnicianAction.APPROVE, reason=change.reason)

    if within is not None:
        await work(within)
        return technician
    await transaction(work)
    if account_status is not None:
        await users_service.disconnect_if_refused(technician.user_id, account_status)
    refreshed = await repository.get_private(actor, technician_id)
    if refreshed is None:
        raise TechnicianNotFound
    return refreshed


async def change_commission_tier(
    actor: Actor, technician_id: str, change: TechnicianCommissionTierIn
) -> Technician:
    """Move a technician to another technician commission tier (platform rules), audited."""
    technician = await get_private(actor, technician_id)
    if not await platform_rules_service.technician_tier_exists(change.tier):
        raise RuleViolation(
            f"Unknown technician commission tier '{change.tier}'",
            {"errors": [{"field": "body.tier", "message": "not a configured technician tier"}]},
        )

    async def work(session: Session) -> None:
        await repository.set_commission_tier(session, technician.id, change.tier)
        await audit.record(
            session, actor=actor, action="technician.commission_tier_changed",
            subject_type="technician", subject_id=technician.id,
            changes={"commissionTier": {"from": technician.commission_tier, "to": change.tier}},
            reason=change.reason,
        )

    await transaction(work)
    return await get_private(actor, technician_id)
