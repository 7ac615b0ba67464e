"""Sign-in: throttled password check, session-bound access tokens, rotating refresh-token
families (one per sign-in session), sign-out."""

import asyncio

from app.audit import service as audit
from app.auth import throttle
from app.auth.exceptions import AccountDisabled, InvalidCredentials, InvalidRefreshToken
from app.core.config import settings
from app.core.context import current_source
from app.core.database import Session, transaction
from app.core.permissions import SIGN_IN_REFUSED_STATUSES, SYSTEM_ACTOR, Actor
from app.core.security import create_access_token, verify_password
from app.notifications import service as notifications
from app.realtime import events
from app.sessions import service as sessions
from app.sessions.models import RefreshToken
from app.users import service as users_service
from app.users import signins
from app.users.models import User

NEW_DEVICE_KIND = "new_device_signin"


async def login(email: str, password: str, device_id: str | None) -> tuple[User, str, str]:
    """Check the password (throttled per email+IP and per IP) and start a new sign-in session."""
    # The check and its throttle bookkeeping run to their end even if the request is
    # cancelled meanwhile (client gone, server stopping): a check torn in the middle would
    # hold a unit of the pair's budget until the pair is forgotten, and enough of them would
    # refuse the owner's correct password.
    user = await asyncio.shield(_checked_password(email, password))
    if user.status in SIGN_IN_REFUSED_STATUSES:
        raise AccountDisabled

    async def work(session: Session) -> tuple[str, str, signins.Attached]:
        session_id, refresh = await sessions.start(session, user.id, device_id)
        attached = await signins.attach(session, user, session_id, device_id)
        actor = users_service.actor_of(user, session_id)
        await audit.record(
            session, actor=actor, action="auth.login_succeeded", subject_type="user",
            subject_id=user.id, metadata={"sessionId": session_id, "deviceId": device_id},
        )
        if attached.new_device:
            await audit.record(
                session, actor=actor, action="auth.new_device_signin", subject_type="user",
                subject_id=user.id, metadata={"sessionId": session_id, "deviceId": device_id},
            )
        return session_id, refresh, attached

    session_id, refresh, attached = await transaction(work)
    await events.disconnect_sessions(attached.ended_session_ids)
    if attached.new_device:
        await _notify_new_device(user, session_id)
    return user, _access_token(user, session_id), refresh


async def _checked_password(email: str, password: str) -> User:
    """The account if `password` is its password (throttled); InvalidCredentials otherwise."""
    attempt = await throttle.begin(email)
    try:
        user = await users_service.get_by_email(email)
        correct = await verify_password(password, user.password_hash if user else None)
    except Exception:
        await throttle.abandoned(attempt)
        raise
    if not correct or user is None:
        failure = await throttle.failed(attempt)
        await _record_failure(email, user, failure)
        raise InvalidCredentials
    await throttle.succeeded(attempt)
    return user


async def _notify_new_device(user: User, session_id: str) -> None:
    source = current_source()
    await notifications.notify(
        None, key=f"new-device-signin:{session_id}", user_id=user.id, kind=NEW_DEVICE_KIND,
        subject_type="session", subject_id=session_id,
        message=f"New sign-in to your account from a new device (IP {source.ip or 'unknown'}). "
        "If this was not you, end that session and change your password.",
    )


async def _record_failure(email: str, user: User | None, failure: throttle.Failure) -> None:
    # The trail names people by id; an address that is no account's only by its keyed hash.
    actor = users_service.actor_of(user) if user else SYSTEM_ACTOR
    email_hash = audit.email_fingerprint(email)
    subject_type, subject_id = ("user", user.id) if user else ("email_hash", email_hash)
    await audit.record(
        None, actor=actor, action="auth.login_failed", subject_type=subject_type,
        subject_id=subject_id,
        metadata={"emailHash": email_hash, "recentFailures": failure.pair_failures,
                  "ipFailures": failure.ip_failures},
    )
    for kind, seconds in failure.throttled.items():
        await audit.record(
            None, actor=actor, action="auth.login_throttled", subject_type=subject_type,
            subject_id=subject_id,
            metadata={"emailHash": email_hash, "scope": kind, "throttleSeconds": seconds,
                      "failures": failure.pair_failures if kind == "pair" else failure.ip_failures},
        )


async def refresh(token: str) -> tuple[User, str, str]:
    """Rotate a refresh token; presenting an already-rotated one ends its whole session."""
    stored = await sessions.find(token)
    if stored is None or not sessions.is_live(stored):
        raise InvalidRefreshToken
    if stored.rotated_at is not None:
        await _end_reused_session(stored)
        raise InvalidRefreshToken("Refresh token reuse detected; please sign in again")
    user = await users_service.get_account(stored.user_id)
    if user is None or user.status in SIGN_IN_REFUSED_STATUSES:
        raise InvalidRefreshToken
    if stored.family_id not in user.session_ids:
        raise InvalidRefreshToken("This session has ended; please sign in again")

    async def work(session: Session) -> str | None:
        return await sessions.rotate(session, stored)

    new_refresh = await transaction(work)
    if new_refresh is None:
        await _end_reused_session(stored)
        raise InvalidRefreshToken("Refresh token reuse detected; please sign in again")
    return user, _access_token(user, stored.family_id), new_refresh


async def _end_reused_session(stored: RefreshToken) -> None:
    async def work(session: Session) -> None:
        await signins.end(session, stored.user_id, [stored.family_id])
        await audit.record(
            session, actor=SYSTEM_ACTOR, action="auth.refresh_reuse_detected",
            subject_type="user", subject_id=stored.user_id,
            metadata={"familyId": stored.family_id},
        )

    await transaction(work)
    await events.disconnect_sessions([stored.family_id])


async def logout(token: str) -> None:
    """End the session of `token`; unknown tokens are ignored (logout is idempotent)."""
    stored = await sessions.find(token)
    if stored is None or stored.revoked_at is not None:
        return
    user = await users_service.get_account(stored.user_id)
    actor: Actor = users_service.actor_of(user, stored.family_id) if user else SYSTEM_ACTOR

    async def work(session: Session) -> None:
        await signins.end(session, stored.user_id, [stored.family_id])
        await audit.record(
            session, actor=actor, action="auth.logged_out", subject_type="user",
            subject_id=stored.user_id, metadata={"sessionId": stored.family_id},
        )

    await transaction(work)
    await events.disconnect_sessions([stored.family_id])


def _access_token(user: User, session_id: str) -> str:
    auth = settings().auth
    return create_access_token(
        auth.jwt_secret.get_secret_value(), user.id, user.role.value, user.scopes,
        auth.access_token_ttl_seconds, session_id,
    )
