"""Accounts: signup, admin governance of status and B2B verification, admin creation."""

import logging
from typing import Any

from pymongo.errors import DuplicateKeyError

from app.audit import service as audit
from app.auth import service as auth_service
from app.core import clock
from app.core.database import Session, transaction
from app.core.errors import ReasonRequired, RuleViolation
from app.core.pagination import PageRequest, paginate
from app.core.permissions import SYSTEM_ACTOR, AccountStatus, Actor, AdminScope, Role
from app.core.security import hash_password
from app.users.exceptions import (
    AdminOnlyBySuperadmin,
    EmailTaken,
    IllegalStatusChange,
    NotABusinessApplicant,
    OwnStatusChange,
    UserNotFound,
)
from app.users.models import Business, BusinessVerification, BuyerType, User
from app.users.schemas import (
    AdminCreateIn,
    BusinessVerificationAction,
    BusinessVerificationIn,
    SignupIn,
    StatusChangeIn,
)

log = logging.getLogger(__name__)

# Which account statuses an admin may move to from each status. Lifting a block is an
# override of the rule that blocks are final: it needs `override` and a reason.
STATUS_TRANSITIONS: dict[AccountStatus, set[AccountStatus]] = {
    AccountStatus.PENDING: {AccountStatus.ACTIVE, AccountStatus.BLOCKED},
    AccountStatus.ACTIVE: {AccountStatus.SUSPENDED, AccountStatus.BLOCKED},
    AccountStatus.SUSPENDED: {AccountStatus.ACTIVE, AccountStatus.BLOCKED},
    AccountStatus.BLOCKED: set(),
}
OVERRIDABLE = {(AccountStatus.BLOCKED, AccountStatus.ACTIVE)}
SIGN_IN_REFUSED = {AccountStatus.SUSPENDED, AccountStatus.BLOCKED}


def _collection():  # type: ignore[no-untyped-def]
    return User.get_pymongo_collection()


def actor_of(user: User) -> Actor:
    """The actor an account acts as, with its dealer or technician profile id."""
    return Actor.of(
        user.id, Role(user.role), tuple(user.scopes), status=user.status,
        buyer_type=user.buyer_type.value, dealer_id=user.dealer_id,
        technician_id=user.technician_id,
    )


async def link_dealer_profile(session: Session, user_id: str, dealer_id: str) -> None:
    """Record on the account the dealer profile it acts for (in the profile's transaction)."""
    await _collection().update_one(
        {"_id": user_id}, {"$set": {"dealer_id": dealer_id}}, session=session
    )


async def get_account(user_id: str) -> User | None:
    return await User.get(user_id)


async def get_by_email(email: str) -> User | None:
    return await User.find_one(User.email == email.strip().lower())


async def get_visible(actor: Actor, user_id: str) -> User:
    """An account as `actor` may see it: admins see anyone, others only themselves."""
    if not actor.is_admin and actor.id != user_id:
        raise UserNotFound
    user = await get_account(user_id)
    if user is None:
        raise UserNotFound
    return user


async def signup(data: SignupIn) -> User:
    role = Role(data.role)
    if data.business is not None and role is not Role.CUSTOMER:
        raise RuleViolation(
            "Only customer accounts can apply to buy as a business",
            {"errors": [{"field": "body.business", "message": "customers only"}]},
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


async def _insert_account(user: User, actor: Actor, action: str, reason: str | None = None) -> User:
    async def work(session: Session) -> User:
        await user.insert(session=session)
        await audit.record(
            session,
            actor=actor,
            action=action,
            subject_type="user",
            subject_id=user.id,
            changes={"status": {"from": None, "to": user.status}, "role": {"from": None,
                     "to": user.role}, "scopes": {"from": None, "to": user.scopes}},
            reason=reason,
            metadata={"email": user.email},
        )
        return user

    try:
        return await transaction(work)
    except DuplicateKeyError:
        raise EmailTaken from None


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
    """Create the first superadmin from settings, only while no admin exists at all."""
    if await User.find_one(User.role == Role.ADMIN) is not None:
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
        if new_status in SIGN_IN_REFUSED:
            await auth_service.revoke_user_sessions(session, target.id)
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
    return await get_visible(actor, user_id)


def _check_status_change(
    actor: Actor, target: User, new_status: AccountStatus, change: StatusChangeIn
) -> None:
    if target.id == actor.id:
        raise OwnStatusChange
    if target.role is Role.ADMIN and not actor.has_scope(AdminScope.SUPERADMIN):
        raise AdminOnlyBySuperadmin
    if new_status in SIGN_IN_REFUSED and not change.reason:
        raise ReasonRequired("A reason is required to suspend or block an account")
    move = (target.status, new_status)
    if move in OVERRIDABLE:
        if not change.override:
            raise IllegalStatusChange(
                "A blocked account can only be reinstated as an override",
                {"from": target.status, "allowed": [], "override": "required"},
            )
        if not (actor.has_scope(AdminScope.OPS)):
            raise AdminOnlyBySuperadmin("Only ops admins may override a block")
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
    result = await _collection().update_one(
        {"_id": target.id, **{name: _stored(value) for name, value in before.items()}},
        {"$set": {**{name: _stored(value) for name, value in after.items()},
                  "updated_at": clock.utcnow()}},
        session=session,
    )
    if result.modified_count != 1:
        raise IllegalStatusChange("The account changed meanwhile; reload and retry")


def _stored(value: Any) -> Any:
    return getattr(value, "value", value)


async def activate_account(session: Session, actor: Actor, user_id: str, reason: str | None) -> None:
    """Activate a pending account as part of another domain's approval (e.g. a dealer)."""
    result = await _collection().update_one(
        {"_id": user_id, "status": AccountStatus.PENDING.value},
        {"$set": {"status": AccountStatus.ACTIVE.value, "status_reason": reason,
                  "updated_at": clock.utcnow()}},
        session=session,
    )
    if result.modified_count == 1:
        await audit.record(
            session, actor=actor, action="user.status_changed", subject_type="user",
            subject_id=user_id, changes={"status": {"from": "pending", "to": "active"}},
            reason=reason,
        )


async def review_business(actor: Actor, user_id: str, review: BusinessVerificationIn) -> User:
    target = await get_visible(actor, user_id)
    if target.business is None:
        raise NotABusinessApplicant
    verify = review.action is BusinessVerificationAction.VERIFY
    current = target.business.verification
    allowed_from = (
        {BusinessVerification.PENDING, BusinessVerification.REJECTED}
        if verify
        else {BusinessVerification.PENDING, BusinessVerification.VERIFIED}
    )
    if current not in allowed_from:
        raise NotABusinessApplicant(f"The business application is already {current}")
    if not verify and not review.reason:
        raise ReasonRequired("A reason is required to reject a business application")
    new_state = BusinessVerification.VERIFIED if verify else BusinessVerification.REJECTED
    new_buyer_type = BuyerType.B2B if verify else BuyerType.B2C

    async def work(session: Session) -> None:
        result = await _collection().update_one(
            {"_id": target.id, "business.verification": current.value},
            {"$set": {
                "business.verification": new_state.value,
                "business.reason": review.reason,
                "business.verified_at": clock.utcnow() if verify else None,
                "buyer_type": new_buyer_type.value,
                "updated_at": clock.utcnow(),
            }},
            session=session,
        )
        if result.modified_count != 1:
            raise NotABusinessApplicant("The application changed meanwhile; reload and retry")
        await audit.record(
            session, actor=actor, action=f"user.business_{new_state.value}",
            subject_type="user", subject_id=target.id,
            changes={"business.verification": {"from": current, "to": new_state},
                     "buyerType": {"from": target.buyer_type, "to": new_buyer_type}},
            reason=review.reason,
        )

    await transaction(work)
    return await get_visible(actor, user_id)


async def list_users(
    role: Role | None,
    status: AccountStatus | None,
    pending_approval: bool | None,
    page: PageRequest,
) -> tuple[list[User], str | None]:
    query: dict[str, Any] = {}
    if role:
        query["role"] = role.value
    if status:
        query["status"] = status.value
    if pending_approval is not None:
        awaiting = [
            {"status": AccountStatus.PENDING.value},
            {"business.verification": BusinessVerification.PENDING.value},
        ]
        query["$or" if pending_approval else "$nor"] = awaiting
    docs, next_cursor = await paginate(_collection(), query, page)
    return [User.model_validate(doc) for doc in docs], next_cursor
