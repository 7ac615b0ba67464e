"""Sign-in: password check with lockout, access tokens, rotating refresh-token families."""

from datetime import timedelta

from app.audit import service as audit
from app.auth import throttle
from app.auth.exceptions import AccountDisabled, InvalidCredentials, InvalidRefreshToken
from app.auth.models import RefreshToken
from app.core import clock
from app.core.config import settings
from app.core.database import Session, transaction
from app.core.ids import new_id
from app.core.permissions import SYSTEM_ACTOR, AccountStatus, Actor
from app.core.security import (
    create_access_token,
    new_refresh_token,
    token_digest,
    verify_password,
)
from app.users import service as users_service
from app.users.models import User

DISABLED = {AccountStatus.SUSPENDED, AccountStatus.BLOCKED}


async def login(email: str, password: str) -> tuple[User, str, str]:
    """Check the password (subject to lockout) and start a new refresh-token family."""
    attempt = await throttle.count_attempt(email)
    user = await users_service.get_by_email(email)
    if not await verify_password(password, user.password_hash if user else None):
        await _record_failure(email, user, attempt)
        raise InvalidCredentials
    assert user is not None
    await throttle.forget(email)
    if user.status in DISABLED:
        raise AccountDisabled

    async def work(session: Session) -> tuple[str, str]:
        refresh = await _issue_refresh(session, user.id, family_id=new_id("fam"))
        await audit.record(
            session, actor=_actor(user), action="auth.login_succeeded",
            subject_type="user", subject_id=user.id,
        )
        return _access_token(user), refresh

    access, refresh = await transaction(work)
    return user, access, refresh


async def _record_failure(email: str, user: User | None, attempt: int) -> None:
    actor = _actor(user) if user else SYSTEM_ACTOR
    subject_id = user.id if user else email
    await audit.record(
        None, actor=actor, action="auth.login_failed", subject_type="user",
        subject_id=subject_id, metadata={"email": email, "recentFailures": attempt},
    )
    if await throttle.lock_if_exhausted(email):
        await audit.record(
            None, actor=actor, action="auth.account_locked", subject_type="user",
            subject_id=subject_id,
            metadata={"email": email, "lockoutSeconds": settings().auth.login_lockout_seconds},
        )


async def refresh(token: str) -> tuple[User, str, str]:
    """Rotate a refresh token; presenting an already-rotated one revokes its whole family."""
    digest = token_digest(token)
    stored = await RefreshToken.find_one(RefreshToken.token_hash == digest)
    now = clock.utcnow()
    if stored is None or stored.revoked_at is not None or stored.expires_at <= now:
        raise InvalidRefreshToken
    if stored.rotated_at is not None:
        await _revoke_reused_family(stored)
        raise InvalidRefreshToken("Refresh token reuse detected; please sign in again")
    user = await users_service.get_account(stored.user_id)
    if user is None or user.status in DISABLED:
        raise InvalidRefreshToken

    async def work(session: Session) -> tuple[str, str]:
        rotated = await RefreshToken.get_pymongo_collection().update_one(
            {"_id": stored.id, "rotated_at": None, "revoked_at": None},
            {"$set": {"rotated_at": now}},
            session=session,
        )
        if rotated.modified_count != 1:
            raise _ConcurrentRotation
        return _access_token(user), await _issue_refresh(session, user.id, stored.family_id)

    try:
        access, new_refresh = await transaction(work)
    except _ConcurrentRotation:
        await _revoke_reused_family(stored)
        raise InvalidRefreshToken("Refresh token reuse detected; please sign in again") from None
    return user, access, new_refresh


class _ConcurrentRotation(Exception):
    pass


async def _revoke_reused_family(stored: RefreshToken) -> None:
    async def work(session: Session) -> None:
        await _revoke_family(session, stored.family_id)
        await audit.record(
            session, actor=SYSTEM_ACTOR, action="auth.refresh_reuse_detected",
            subject_type="user", subject_id=stored.user_id,
            metadata={"familyId": stored.family_id},
        )

    await transaction(work)


async def logout(token: str) -> None:
    """Revoke the family of `token`; unknown tokens are ignored (logout is idempotent)."""
    stored = await RefreshToken.find_one(RefreshToken.token_hash == token_digest(token))
    if stored is None or stored.revoked_at is not None:
        return
    user = await users_service.get_account(stored.user_id)

    async def work(session: Session) -> None:
        await _revoke_family(session, stored.family_id)
        await audit.record(
            session, actor=_actor(user) if user else SYSTEM_ACTOR,
            action="auth.logged_out", subject_type="user", subject_id=stored.user_id,
        )

    await transaction(work)


async def revoke_user_sessions(session: Session, user_id: str) -> int:
    """Revoke every live refresh token of a user (suspension, block)."""
    result = await RefreshToken.get_pymongo_collection().update_many(
        {"user_id": user_id, "revoked_at": None},
        {"$set": {"revoked_at": clock.utcnow()}},
        session=session,
    )
    return result.modified_count


async def _revoke_family(session: Session, family_id: str) -> None:
    await RefreshToken.get_pymongo_collection().update_many(
        {"family_id": family_id, "revoked_at": None},
        {"$set": {"revoked_at": clock.utcnow()}},
        session=session,
    )


async def _issue_refresh(session: Session, user_id: str, family_id: str) -> str:
    token = new_refresh_token()
    await RefreshToken(
        family_id=family_id,
        user_id=user_id,
        token_hash=token_digest(token),
        expires_at=clock.utcnow() + timedelta(days=settings().auth.refresh_token_ttl_days),
    ).insert(session=session)
    return token


def _access_token(user: User) -> str:
    auth = settings().auth
    return create_access_token(
        auth.jwt_secret.get_secret_value(), user.id, user.role.value, user.scopes,
        auth.access_token_ttl_seconds,
    )


def _actor(user: User) -> Actor:
    return Actor.of(user.id, user.role, tuple(user.scopes), status=user.status)
