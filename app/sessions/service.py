"""Sign-in sessions: start one (a refresh-token family), rotate within it, end some or all.

Which sessions of an account are live is kept on the account (users domain) in the same
transaction as every start and end here; the auth dependency checks it on each request."""

from datetime import datetime, timedelta

from app.core import clock
from app.core.config import settings
from app.core.context import current_source
from app.core.database import Session
from app.core.security import new_refresh_token, token_digest
from app.sessions import repository
from app.sessions.models import RefreshToken, SignInSession


async def find(token: str) -> RefreshToken | None:
    """The stored refresh token that `token` is, whatever its state."""
    return await repository.get_by_digest(token_digest(token))


def is_live(stored: RefreshToken) -> bool:
    """Neither revoked nor expired (a rotated token is live but may not be used again)."""
    return stored.revoked_at is None and stored.expires_at > clock.utcnow()


def _expiry(now: datetime) -> datetime:
    return now + timedelta(days=settings().auth.refresh_token_ttl_days)


async def start(session: Session, user_id: str, device_id: str | None) -> tuple[str, str]:
    """Start a sign-in from the calling device and address: its id and first refresh token."""
    now, source = clock.utcnow(), current_source()
    sign_in = SignInSession(
        user_id=user_id, device_id=device_id, ip=source.ip, user_agent=source.user_agent,
        created_at=now, last_used_at=now, expires_at=_expiry(now),
    )
    await repository.insert_sign_in(session, sign_in)
    return sign_in.id, await _issue(session, user_id, sign_in.id)


async def rotate(session: Session, stored: RefreshToken) -> str | None:
    """The next refresh token of `stored`'s family, or None if `stored` was rotated (or
    revoked) meanwhile, i.e. a concurrent use of the same token. Records the session's
    last use (and the address it was used from): on refresh, never on every request."""
    now, source = clock.utcnow(), current_source()
    if not await repository.mark_rotated(session, stored.id, now):
        return None
    await repository.touch_sign_in(
        session, stored.family_id,
        {"last_used_at": now, "ip": source.ip, "user_agent": source.user_agent,
         "expires_at": _expiry(now)},
    )
    return await _issue(session, stored.user_id, stored.family_id)


async def end(session: Session, user_id: str, session_ids: list[str]) -> int:
    """End these sign-ins of the account (logout, reuse, eviction, ended by hand)."""
    return await repository.revoke_families(session, user_id, session_ids, clock.utcnow())


async def end_all(session: Session, user_id: str, keep: str | None = None) -> int:
    """End every sign-in of the account but `keep` (suspension, block, password change)."""
    return await repository.revoke_user(session, user_id, clock.utcnow(), keep)


async def list_live(user_id: str, session_ids: list[str]) -> list[SignInSession]:
    """The sessions among `session_ids` (the account's live ones), newest first."""
    found = await repository.list_sign_ins(user_id, session_ids)
    return sorted(found, key=lambda s: (s.created_at, s.id), reverse=True)


async def _issue(session: Session, user_id: str, family_id: str) -> str:
    token = new_refresh_token()
    await repository.insert(
        session,
        RefreshToken(
            family_id=family_id, user_id=user_id, token_hash=token_digest(token),
            expires_at=_expiry(clock.utcnow()),
        ),
    )
    return token


async def device_of(session_id: str | None) -> str | None:
    """The device (X-Device-Id at sign-in) of a caller's sign-in session, if known."""
    return await repository.device_of(session_id) if session_id else None
