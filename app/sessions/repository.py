"""Every query on refresh tokens and sign-in sessions. Both are internal: reads run in the
system scope, callers pass the account whose sessions they may touch."""

from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from app.core.database import Session
from app.sessions.models import RefreshToken, SignInSession


def _tokens() -> AsyncCollection:
    return RefreshToken.get_pymongo_collection()


def _sessions() -> AsyncCollection:
    return SignInSession.get_pymongo_collection()


async def get_by_digest(token_hash: str) -> RefreshToken | None:
    return await RefreshToken.find_one(RefreshToken.token_hash == token_hash)


async def insert(session: Session, token: RefreshToken) -> None:
    await token.insert(session=session)


async def insert_sign_in(session: Session, sign_in: SignInSession) -> None:
    await sign_in.insert(session=session)


async def mark_rotated(session: Session, token_id: str, now: datetime) -> bool:
    """Mark a live, unrotated token rotated; False if another rotation or revocation won."""
    result = await _tokens().update_one(
        {"_id": token_id, "rotated_at": None, "revoked_at": None},
        {"$set": {"rotated_at": now}},
        session=session,
    )
    return result.modified_count == 1


async def touch_sign_in(
    session: Session, session_id: str, changes: dict[str, Any]
) -> None:
    await _sessions().update_one(
        {"_id": session_id, "ended_at": None}, {"$set": changes}, session=session
    )


async def list_sign_ins(user_id: str, session_ids: list[str]) -> list[SignInSession]:
    """The account's sessions among `session_ids` (a selective lookup by `_id`)."""
    docs = await _sessions().find(
        {"_id": {"$in": session_ids}, "user_id": user_id, "ended_at": None}
    ).to_list()
    return [SignInSession.model_validate(doc) for doc in docs]


async def revoke_families(
    session: Session, user_id: str, family_ids: list[str], now: datetime
) -> int:
    """End these sign-ins of the account: revoke their refresh tokens, mark them ended."""
    if not family_ids:
        return 0
    await _sessions().update_many(
        {"_id": {"$in": family_ids}, "user_id": user_id, "ended_at": None},
        {"$set": {"ended_at": now}}, session=session,
    )
    return await _revoke(session, {"user_id": user_id, "family_id": {"$in": family_ids}}, now)


async def revoke_user(
    session: Session, user_id: str, now: datetime, keep: str | None = None
) -> int:
    """End every sign-in of the account except `keep`."""
    sign_ins: dict[str, Any] = {"user_id": user_id, "ended_at": None}
    tokens: dict[str, Any] = {"user_id": user_id}
    if keep is not None:
        sign_ins["_id"] = {"$ne": keep}
        tokens["family_id"] = {"$ne": keep}
    await _sessions().update_many(sign_ins, {"$set": {"ended_at": now}}, session=session)
    return await _revoke(session, tokens, now)


async def _revoke(session: Session, which: dict[str, Any], now: datetime) -> int:
    result = await _tokens().update_many(
        {**which, "revoked_at": None}, {"$set": {"revoked_at": now}}, session=session
    )
    return result.modified_count


async def device_of(session_id: str) -> str | None:
    """The X-Device-Id a sign-in started from (by `_id`), if it sent one."""
    doc = await _sessions().find_one({"_id": session_id}, {"device_id": 1})
    return doc.get("device_id") if doc else None
