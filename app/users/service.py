"""Accounts: signup, admin governance of status and B2B verification, admin creation."""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from app.audit import service as audit
from app.core import clock
from app.core.database import Session, transaction
from app.core.errors import OverrideForbidden, ReasonRequired, RuleViolation
from app.core.pagination import PageRequest
from app.core.permissions import (
    REFUSED_ACCOUNT_STATUSES,
    SYSTEM_ACTOR,
    AccountStatus,
    Actor,
    AdminScope,
    Permission,
    Role,
)
from app.core.queues import QueuePosition, Waiting
from app.core.security import hash_password
from app.core.validators import check_password_strength
from app.notifications import notices
from app.realtime import events
from app.users import repository, signins
from app.users.exceptions import (
    AdminOnlyBySuperadmin,
    EmailTaken,
    IllegalStatusChange,
    NotABusinessApplicant,
    OwnStatusChange,
    ProfileChangedMeanwhile,
    UserNotFound,
)
from app.users.models import Business, BusinessVerification, BuyerType, User
from app.users.schemas import (
    AdminCreateIn,
    BusinessVerificationAction,
    BusinessVerificationIn,
    ProfileUpdate,
    SignupIn,
    StatusChangeIn,
)
from app.users.transitions import BUSINESS_REVIEW_FROM, OVERRIDABLE, STATUS_TRANSITIONS

log = logging.getLogger(__name__)

# Told, in the transaction that renames an account, its new name (the technician profile
# shows the account's name to customers).
RenameHook = Callable[[Session, User, str], Awaitable[object]]
_rename_hooks: list[RenameHook] = []


def register_rename_hook(hook: RenameHook) -> None:
    if hook not in _rename_hooks:
        _rename_hooks.append(hook)


def actor_of(user: User, session_id: str | None = None) -> Actor:
    """The actor an account acts as, with its dealer or technician profile id (and the
    sign-in session of the request's token)."""
    return Actor.of(
        user.id, Role(user.role), tuple(user.scopes), status=user.status,
        buyer_type=user.buyer_type.value, dealer_id=user.dealer_id,
        technician_id=user.technician_id, session_id=session_id,
    )


async def link_dealer_profile(session: Session, user_id: str, dealer_id: str) -> None:
    """Record on the account the dealer profile it acts for (in the profile's transaction)."""
    await repository.link_dealer_profile(session, user_id, dealer_id)


async def link_technician_profile(session: Session, user_id: str, technician_id: str) -> None:
    """Record on the account the technician profile it acts for (in the profile's transaction)."""
    await repository.link_technician_profile(session, user_id, technician_id)


async def get_account(user_id: str) -> User | None:
    """Any account, in the system scope (resolving who is calling)."""
    return await repository.get_account(user_id)


async def get_by_email(email: str) -> User | None:
    return await repository.get_by_email(email.strip().lower())


async def get_visible(actor: Actor, user_id: str) -> User:
    """An account as `actor` may see it: admins see anyone, others only themselves."""
    user = await repository.get_visible(actor, user_id)
    if user is None:
        raise UserNotFound
    return user


# Who may buy parts as a verified business (B2B prices): customers, and technicians buying
# parts for their jobs.
BUSINESS_BUYER_ROLES = frozenset({Role.CUSTOMER, Role.TECHNICIAN})


async def signup(data: SignupIn) -> User:
    role = Role(data.role)
    if data.business is not None and role not in BUSINESS_BUYER_ROLES:
        raise RuleViolation(
            "Only customer and technician accounts can apply to buy as a business",
            {"errors": [{"field": "body.business", "message": "customers and technicians only"}]},
        )
    user = User(
        email=data.email,
        password_hash=await hash_password(data.password),
        role=role,
        name=data.name,
        phone=data.phone,
        status=AccountStatus.ACTIVE if role is Role.CUSTOMER else AccountStatus.PENDING,
        business=Business(legal_name=data.business.legal_name, gstin=data.business.gstin)
        if data.business
        else None,
    )
    return await _insert_account(user, Actor.of(user.id, role), "user.signed_up")


async def update_profile(actor: Actor, data: ProfileUpdate) -> User:
    """Set the caller's own name and/or phone (both optional at signup)."""
    account = await get_visible(actor, actor.id)
    after = data.model_dump(include=data.model_fields_set)
    before = {field: getattr(account, field) for field in after}
    changes = audit.diff(before, after)
    if not changes:
        return account

    async def work(session: Session) -> None:
        changed = await repository.update_if(
            session, account.id, before, {**after, "updated_at": clock.utcnow()}
        )
        if not changed:
            raise ProfileChangedMeanwhile
        if "name" in changes:
            for hook in _rename_hooks:
                await hook(session, account, after["name"])
        await audit.record(
            session, actor=actor, action="user.profile_updated", subject_type="user",
            subject_id=account.id, changes=changes,
        )

    await transaction(work)
    return await get_visible(actor, actor.id)


async def _insert_account(user: User, actor: Actor, action: str, reason: str | None = None) -> User:
    async def work(session: Session) -> User:
        await repository.insert(session, user)
        await audit.record(
            session,
            actor=actor,
            action=action,
            subject_type="user",
            subject_id=user.id,
            changes={"status": {"from": None, "to": user.status}, "role": {"from": None,
                     "to": user.role}, "scopes": {"from": None, "to": user.scopes}},
            reason=reason,
        )
        return user

    return await transaction(work)


async def create_admin(actor: Actor, data: AdminCreateIn) -> User:
    user = User(
        email=data.email,
        password_hash=await hash_password(data.password),
        role=Role.ADMIN,
        name=data.name,
        status=AccountStatus.ACTIVE,
        scopes=sorted({scope.value for scope in data.scopes}),
    )
    return await _insert_account(user, actor, "admin.created")


async def bootstrap_admin(email: str, password: str) -> User | None:
    """Create the first superadmin from settings, only while no admin exists at all.

    A password that fails the signup policy refuses to start (ValueError), admin or not."""
    try:
        check_password_strength(password)
    except ValueError as weak:
        raise ValueError(f"BOOTSTRAP_ADMIN_PASSWORD is refused: {weak}") from None
    if await repository.any_admin_exists():
        return None
    user = User(
        email=email.strip().lower(),
        password_hash=await hash_password(password),
        role=Role.ADMIN,
        name="Bootstrap superadmin",
        status=AccountStatus.ACTIVE,
        scopes=[AdminScope.SUPERADMIN.value],
    )
    try:
        return await _insert_account(user, SYSTEM_ACTOR, "admin.bootstrapped")
    except EmailTaken:
        log.warning("bootstrap admin email is taken by another account; not created")
        return None


async def change_status(actor: Actor, user_id: str, change: StatusChangeIn) -> User:
    target = await get_visible(actor, user_id)
    new_status = AccountStatus(change.status)
    _check_status_change(actor, target, new_status, change)
    before = {"status": target.status, "status_reason": target.status_reason}
    after = {"status": new_status, "status_reason": change.reason}

    async def work(session: Session) -> None:
        await _set_fields(session, target, before, after)
        if new_status in REFUSED_ACCOUNT_STATUSES:
            await signins.end_all(session, target.id)
        await audit.record(
            session,
            actor=actor,
            action="user.status_changed",
            subject_type="user",
            subject_id=target.id,
            changes=audit.diff(before, after),
            reason=change.reason,
            override=change.override,
        )

    await transaction(work)
    if new_status in REFUSED_ACCOUNT_STATUSES:
        await events.disconnect_user(target.id)
    return await get_visible(actor, user_id)


def _check_status_change(
    actor: Actor, target: User, new_status: AccountStatus, change: StatusChangeIn
) -> None:
    if target.id == actor.id:
        raise OwnStatusChange
    if target.role is Role.ADMIN and not actor.has_scope(AdminScope.SUPERADMIN):
        raise AdminOnlyBySuperadmin
    if new_status in REFUSED_ACCOUNT_STATUSES and not change.reason:
        raise ReasonRequired("A reason is required to suspend or block an account")
    move = (target.status, new_status)
    if move in OVERRIDABLE:
        if not change.override:
            raise IllegalStatusChange(
                "A blocked account can only be reinstated as an override",
                {"from": target.status, "allowed": [], "override": "required"},
            )
        if not actor.can(Permission.BLOCKS_LIFT):
            raise OverrideForbidden("Only the ops leader may lift a block")
        if not change.reason:
            raise ReasonRequired("An override must give a reason")
        return
    if change.override:
        raise IllegalStatusChange("No rule refuses this change; it is not an override")
    if new_status not in STATUS_TRANSITIONS[target.status]:
        raise IllegalStatusChange(
            f"Cannot move an account from {target.status} to {new_status}",
            {"from": target.status,
             "allowed": sorted(s.value for s in STATUS_TRANSITIONS[target.status])},
        )


async def _set_fields(
    session: Session, target: User, before: dict[str, Any], after: dict[str, Any]
) -> None:
    """Conditional update on the fields' current values, so a concurrent change loses."""
    changed = await repository.update_if(
        session, target.id,
        {name: _stored(value) for name, value in before.items()},
        {**{name: _stored(value) for name, value in after.items()}, "updated_at": clock.utcnow()},
    )
    if not changed:
        raise IllegalStatusChange("The account changed meanwhile; reload and retry")


def _stored(value: Any) -> Any:
    return getattr(value, "value", value)


async def activate_account(session: Session, actor: Actor, user_id: str, reason: str | None) -> None:
    """Activate a pending account as part of another domain's approval (e.g. a dealer)."""
    activated = await repository.update_if(
        session, user_id, {"status": AccountStatus.PENDING.value},
        {"status": AccountStatus.ACTIVE.value, "status_reason": reason,
         "updated_at": clock.utcnow()},
    )
    if activated:
        await audit.record(
            session, actor=actor, action="user.status_changed", subject_type="user",
            subject_id=user_id, changes={"status": {"from": "pending", "to": "active"}},
            reason=reason,
        )


async def follow_profile_status(
    session: Session, actor: Actor, user_id: str, status: AccountStatus, reason: str | None,
    *, override: bool = False, profile: str = "dealer profile",
) -> bool:
    """Move an account with its dealer (or technician) profile's block, suspension or
    reinstatement, in that change's transaction; a suspended or blocked account's sessions
    end at once.

    Only moves the account table allows are made (lifting an account's block only when the
    profile's own move is an override); any other leaves the account as it is. True if moved.
    """
    target = await repository.get_account(user_id)
    if target is None or target.status is status:
        return False
    move = (target.status, status)
    if move in OVERRIDABLE:
        if not override:
            return False
    elif status not in STATUS_TRANSITIONS[target.status]:
        return False
    before = {"status": target.status, "status_reason": target.status_reason}
    after = {"status": status, "status_reason": reason}
    await _set_fields(session, target, before, after)
    if status in REFUSED_ACCOUNT_STATUSES:
        await signins.end_all(session, target.id)
    await audit.record(
        session, actor=actor, action="user.status_changed", subject_type="user",
        subject_id=target.id, changes=audit.diff(before, after), reason=reason,
        override=move in OVERRIDABLE, metadata={"followed": profile},
    )
    return True


async def disconnect_if_refused(user_id: str, status: AccountStatus) -> None:
    """After a commit that suspended or blocked an account: close its live connections."""
    if status in REFUSED_ACCOUNT_STATUSES:
        await events.disconnect_user(user_id)


async def review_business(actor: Actor, user_id: str, review: BusinessVerificationIn) -> User:
    target = await get_visible(actor, user_id)
    if target.business is None:
        raise NotABusinessApplicant
    verify = review.action is BusinessVerificationAction.VERIFY
    current = target.business.verification
    new_state = BusinessVerification.VERIFIED if verify else BusinessVerification.REJECTED
    if current not in BUSINESS_REVIEW_FROM[new_state]:
        raise NotABusinessApplicant(f"The business application is already {current}")
    if not verify and not review.reason:
        raise ReasonRequired("A reason is required to reject a business application")
    new_buyer_type = BuyerType.B2B if verify else BuyerType.B2C

    async def work(session: Session) -> None:
        now = clock.utcnow()
        moved = await repository.set_business_verification(
            session, target.id, current, new_state, review.reason,
            verified_at=now if verify else None, buyer_type=new_buyer_type, now=now,
        )
        if not moved:
            raise NotABusinessApplicant("The application changed meanwhile; reload and retry")
        await audit.record(
            session, actor=actor, action=f"user.business_{new_state.value}",
            subject_type="user", subject_id=target.id,
            changes={"business.verification": {"from": current, "to": new_state},
                     "buyerType": {"from": target.buyer_type, "to": new_buyer_type}},
            reason=review.reason,
        )
        await notices.business_decided(session, user_id=target.id, verified=verify,
                                       reason=review.reason, at=now)

    await transaction(work)
    return await get_visible(actor, user_id)


async def list_users(
    actor: Actor,
    role: Role | None,
    status: AccountStatus | None,
    pending_approval: bool | None,
    page: PageRequest,
) -> tuple[list[User], str | None]:
    """Accounts `actor` may see, newest first; `pending_approval` filters on awaiting either
    account approval or business verification."""
    return await repository.list_visible(actor, role, status, pending_approval, page)


async def awaiting_business_review(
    actor: Actor, after: QueuePosition | None, limit: int
) -> list[Waiting]:
    """B2B applicants awaiting business verification, oldest first (the approval queue)."""
    return await repository.awaiting_business_review(actor, after, limit)


async def count_awaiting_business_review(actor: Actor) -> int:
    return await repository.count_awaiting_business_review(actor)
