"""Sign-in sessions: start a refresh-token family, rotate within it, revoke a family or a user's."""

from datetime import timedelta

from app.core import clock
from app.core.config import settings
from app.core.database import Session
from app.core.ids import new_id
from app.core.security import new_refresh_token, token_digest
from app.sessions import repository
from app.sessions.models import RefreshToken


async def find(token: str) -> RefreshToken | None:
    """The stored refresh token that `token` is, whatever its state."""
    return await repository.get_by_digest(token_digest(token))


def is_live(stored: RefreshToken) -> bool:
    """Neither revoked nor expired (a rotated token is live but may not be used again)."""
    return stored.revoked_at is None and stored.expires_at > clock.utcnow()


async def start(session: Session, user_id: str) -> str:
    """Start a sign-in: a new family and its first refresh token."""
    return await _issue(session, user_id, new_id("fam"))


async def rotate(session: Session, stored: RefreshToken) -> str | None:
    """The next refresh token of `stored`'s family, or None if `stored` was rotated (or
    revoked) meanwhile, i.e. a concurrent use of the same token."""
    if not await repository.mark_rotated(session, stored.id, clock.utcnow()):
        return None
    return await _issue(session, stored.user_id, stored.family_id)


async def revoke_family(session: Session, family_id: str) -> int:
    """End one sign-in."""
    return await repository.revoke_family(session, family_id, clock.utcnow())


async def revoke_user_sessions(session: Session, user_id: str) -> int:
    """End every sign-in of a user (suspension, block)."""
    return await repository.revoke_user(session, user_id, clock.utcnow())


async def _issue(session: Session, user_id: str, family_id: str) -> str:
    token = new_refresh_token()
    await repository.insert(
        session,
        RefreshToken(
            family_id=family_id,
            user_id=user_id,
            token_hash=token_digest(token),
            expires_at=clock.utcnow() + timedelta(days=settings().auth.refresh_token_ttl_days),
        ),
    )
    return token
