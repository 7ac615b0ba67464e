"""Sign-in: password check with lockout, access tokens, rotating refresh-token families."""

from app.audit import service as audit
from app.auth import throttle
from app.auth.exceptions import AccountDisabled, InvalidCredentials, InvalidRefreshToken
from app.core.config import settings
from app.core.database import Session, transaction
from app.core.permissions import REFUSED_ACCOUNT_STATUSES, SYSTEM_ACTOR
from app.core.security import create_access_token, verify_password
from app.sessions import service as sessions
from app.sessions.models import RefreshToken
from app.users import service as users_service
from app.users.models import User


async def login(email: str, password: str) -> tuple[User, str, str]:
    """Check the password (subject to lockout) and start a new refresh-token family."""
    attempt = await throttle.count_attempt(email)
    user = await users_service.get_by_email(email)
    if not await verify_password(password, user.password_hash if user else None):
        await _record_failure(email, user, attempt)
        raise InvalidCredentials
    assert user is not None
    await throttle.forget(email)
    if user.status in REFUSED_ACCOUNT_STATUSES:
        raise AccountDisabled

    async def work(session: Session) -> tuple[str, str]:
        refresh = await sessions.start(session, user.id)
        await audit.record(
            session, actor=users_service.actor_of(user), action="auth.login_succeeded",
            subject_type="user", subject_id=user.id,
        )
        return _access_token(user), refresh

    access, refresh = await transaction(work)
    return user, access, refresh


async def _record_failure(email: str, user: User | None, attempt: int) -> None:
    # The trail names people by id; an address that is no account's only by its keyed hash.
    actor = users_service.actor_of(user) if user else SYSTEM_ACTOR
    email_hash = audit.email_fingerprint(email)
    subject_type, subject_id = ("user", user.id) if user else ("email_hash", email_hash)
    await audit.record(
        None, actor=actor, action="auth.login_failed", subject_type=subject_type,
        subject_id=subject_id, metadata={"emailHash": email_hash, "recentFailures": attempt},
    )
    if await throttle.lock_if_exhausted(email):
        await audit.record(
            None, actor=actor, action="auth.account_locked", subject_type=subject_type,
            subject_id=subject_id,
            metadata={"emailHash": email_hash,
                      "lockoutSeconds": settings().auth.login_lockout_seconds},
        )


async def refresh(token: str) -> tuple[User, str, str]:
    """Rotate a refresh token; presenting an already-rotated one revokes its whole family."""
    stored = await sessions.find(token)
    if stored is None or not sessions.is_live(stored):
        raise InvalidRefreshToken
    if stored.rotated_at is not None:
        await _revoke_reused_family(stored)
        raise InvalidRefreshToken("Refresh token reuse detected; please sign in again")
    user = await users_service.get_account(stored.user_id)
    if user is None or user.status in REFUSED_ACCOUNT_STATUSES:
        raise InvalidRefreshToken

    async def work(session: Session) -> str | None:
        return await sessions.rotate(session, stored)

    new_refresh = await transaction(work)
    if new_refresh is None:
        await _revoke_reused_family(stored)
        raise InvalidRefreshToken("Refresh token reuse detected; please sign in again")
    return user, _access_token(user), new_refresh


async def _revoke_reused_family(stored: RefreshToken) -> None:
    async def work(session: Session) -> None:
        await sessions.revoke_family(session, stored.family_id)
        await audit.record(
            session, actor=SYSTEM_ACTOR, action="auth.refresh_reuse_detected",
            subject_type="user", subject_id=stored.user_id,
            metadata={"familyId": stored.family_id},
        )

    await transaction(work)


async def logout(token: str) -> None:
    """Revoke the family of `token`; unknown tokens are ignored (logout is idempotent)."""
    stored = await sessions.find(token)
    if stored is None or stored.revoked_at is not None:
        return
    user = await users_service.get_account(stored.user_id)

    async def work(session: Session) -> None:
        await sessions.revoke_family(session, stored.family_id)
        await audit.record(
            session, actor=users_service.actor_of(user) if user else SYSTEM_ACTOR,
            action="auth.logged_out", subject_type="user", subject_id=stored.user_id,
        )

    await transaction(work)


def _access_token(user: User) -> str:
    auth = settings().auth
    return create_access_token(
        auth.jwt_secret.get_secret_value(), user.id, user.role.value, user.scopes,
        auth.access_token_ttl_seconds,
    )
