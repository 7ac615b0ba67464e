"""Appeal rules: a suspended dealer or technician files one appeal at a time; an admin
upholds the suspension or reinstates the account (and its suspended profile) in one
transaction, audited, with a notification the account can read while still suspended."""

from pymongo.errors import DuplicateKeyError

from app.appeals import repository
from app.appeals.exceptions import (
    AccountNotSuspended,
    AppealAlreadyOpen,
    AppealNotFound,
    IllegalAppealTransition,
)
from app.appeals.models import Appeal, AppealAction, AppealStatus
from app.appeals.schemas import AppealCreate, AppealDecision
from app.appeals.transitions import allowed_actions, move_for
from app.audit import service as audit
from app.core import clock
from app.core.database import Session, transaction
from app.core.pagination import PageRequest
from app.core.permissions import AccountStatus, Actor
from app.core.queues import QueuePosition, Waiting
from app.dealers import service as dealers_service
from app.dealers.models import DealerStatus
from app.dealers.schemas import DealerAction, DealerStatusIn
from app.notifications import service as notifications
from app.technicians import onboarding as technicians_onboarding
from app.technicians import service as technicians_service
from app.technicians.models import TechnicianStatus
from app.technicians.schemas import TechnicianAction, TechnicianStatusIn
from app.users import service as users_service
from app.users.models import User

DECIDED_KIND = "appeal_decided"


async def file_appeal(actor: Actor, account: User, data: AppealCreate) -> Appeal:
    """Open the caller's appeal against its suspension (409 if not suspended or one is open)."""
    move = move_for(None, AppealAction.FILE)
    assert move is not None
    if account.status is not AccountStatus.SUSPENDED:
        raise AccountNotSuspended(status=account.status.value)
    appeal = Appeal(
        user_id=actor.id, role=actor.role, dealer_id=actor.dealer_id,
        technician_id=actor.technician_id, reason=data.reason, details=data.details,
        suspension_reason=account.status_reason, status=move.target, open_key=actor.id,
    )

    async def work(session: Session) -> None:
        await repository.insert(session, appeal)
        await audit.record(
            session, actor=actor, action="appeal.filed", subject_type="appeal",
            subject_id=appeal.id, changes={"status": {"from": None, "to": move.target}},
            reason=data.reason, metadata={"userId": actor.id},
        )

    try:
        await transaction(work)
    except DuplicateKeyError:
        raise AppealAlreadyOpen from None
    return appeal


async def get_visible(actor: Actor, appeal_id: str) -> Appeal:
    """An appeal its own account or an admin deciding appeals may see; 404 otherwise."""
    appeal = await repository.get_visible(actor, appeal_id)
    if appeal is None:
        raise AppealNotFound
    return appeal


async def list_visible(
    actor: Actor, status: AppealStatus | None, page: PageRequest
) -> tuple[list[Appeal], str | None]:
    return await repository.page_visible(actor, status, page)


def actions_for(appeal: Appeal) -> list[str]:
    return allowed_actions(appeal.status)


async def open_appeals(actor: Actor, after: QueuePosition | None, limit: int) -> list[Waiting]:
    """Open appeals, oldest first (decided with PATCH /api/admin/appeals/{appealId})."""
    return await repository.open_appeals(actor, after, limit)


async def count_open(actor: Actor) -> int:
    return await repository.count_open(actor)


async def decide(actor: Actor, appeal_id: str, decision: AppealDecision) -> Appeal:
    """Uphold the suspension, or reinstate the account and the profile its suspension
    stopped; the appeal, the account, the profile and their audit entries in one transaction."""
    appeal = await get_visible(actor, appeal_id)
    action = AppealAction(decision.action.value)
    move = move_for(appeal.status, action)
    if move is None:
        raise IllegalAppealTransition(
            f"This appeal is already {appeal.status.value}",
            {"from": appeal.status, "allowedActions": allowed_actions(appeal.status)},
        )
    reinstating = action is AppealAction.REINSTATE
    if reinstating:
        await _check_still_suspended(appeal.user_id)

    async def work(session: Session) -> None:
        if not await repository.decide(session, appeal.id, move.target, actor.id,
                                       decision.note, clock.utcnow()):
            raise IllegalAppealTransition("The appeal was decided meanwhile; reload it")
        if reinstating:
            await _reinstate(session, actor, appeal, decision.note)
        await audit.record(
            session, actor=actor, action=f"appeal.{move.target.value}", subject_type="appeal",
            subject_id=appeal.id, changes={"status": {"from": appeal.status, "to": move.target}},
            reason=decision.note, metadata={"userId": appeal.user_id},
        )
        await notifications.notify(
            session, key=f"appeal-decided:{appeal.id}", user_id=appeal.user_id,
            kind=DECIDED_KIND, subject_type="appeal", subject_id=appeal.id,
            message=_decision_message(move.target, decision.note),
        )

    await transaction(work)
    return await get_visible(actor, appeal_id)


async def _check_still_suspended(user_id: str) -> None:
    account = await users_service.get_account(user_id)
    if account is None or account.status is not AccountStatus.SUSPENDED:
        raise AccountNotSuspended(
            "The account is no longer suspended; uphold the appeal to close it",
            account.status.value if account else None,
        )


async def _reinstate(session: Session, actor: Actor, appeal: Appeal, note: str) -> None:
    """Approve the suspended profile (its account follows it), or else the account alone."""
    if await _reinstate_profile(session, actor, appeal, note):
        return
    if not await users_service.follow_profile_status(
        session, actor, appeal.user_id, AccountStatus.ACTIVE, note, profile="appeal"
    ):
        raise AccountNotSuspended("The account changed meanwhile; reload the appeal")


async def _reinstate_profile(session: Session, actor: Actor, appeal: Appeal, note: str) -> bool:
    if appeal.dealer_id:
        dealer = await dealers_service.get_dealer(appeal.dealer_id)
        if dealer is not None and dealer.status is DealerStatus.SUSPENDED:
            await dealers_service.change_status(
                actor, dealer.id, DealerStatusIn(action=DealerAction.REINSTATE, reason=note),
                within=session,
            )
            return True
    if appeal.technician_id:
        technician = await technicians_service.get_technician(appeal.technician_id)
        if technician is not None and technician.status is TechnicianStatus.SUSPENDED:
            await technicians_onboarding.change_status(
                actor, technician.id,
                TechnicianStatusIn(action=TechnicianAction.REINSTATE, reason=note),
                within=session,
            )
            return True
    return False


def _decision_message(outcome: AppealStatus, note: str) -> str:
    if outcome is AppealStatus.REINSTATED:
        return f"Your appeal was accepted and your account is active again: {note}"
    return f"Your appeal was reviewed and your suspension stands: {note}"
