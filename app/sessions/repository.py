"""Every query on refresh tokens. Tokens are internal: reads run in the system scope."""

from datetime import datetime

from pymongo.asynchronous.collection import AsyncCollection

from app.core.database import Session
from app.sessions.models import RefreshToken


def _tokens() -> AsyncCollection:
    return RefreshToken.get_pymongo_collection()


async def get_by_digest(token_hash: str) -> RefreshToken | None:
    return await RefreshToken.find_one(RefreshToken.token_hash == token_hash)


async def insert(session: Session, token: RefreshToken) -> None:
    await token.insert(session=session)


async def mark_rotated(session: Session, token_id: str, now: datetime) -> bool:
    """Mark a live, unrotated token rotated; False if another rotation or revocation won."""
    result = await _tokens().update_one(
        {"_id": token_id, "rotated_at": None, "revoked_at": None},
        {"$set": {"rotated_at": now}},
        session=session,
    )
    return result.modified_count == 1


async def revoke_family(session: Session, family_id: str, now: datetime) -> int:
    return await _revoke(session, {"family_id": family_id}, now)


async def revoke_user(session: Session, user_id: str, now: datetime) -> int:
    return await _revoke(session, {"user_id": user_id}, now)


async def _revoke(session: Session, which: dict[str, str], now: datetime) -> int:
    result = await _tokens().update_many(
        {**which, "revoked_at": None}, {"$set": {"revoked_at": now}}, session=session
    )
    return result.modified_count
