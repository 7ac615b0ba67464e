"""Sign-in sessions: one refresh-token family per sign-in, rotated on every refresh."""

from datetime import datetime

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from app.core import clock
from app.core.ids import new_id


class RefreshToken(Document):
    """One issued refresh token; only its SHA-256 is stored. A family is one sign-in."""

    id: str = Field(default_factory=lambda: new_id("rtk"))
    family_id: str
    user_id: str
    token_hash: str
    expires_at: datetime
    created_at: datetime = Field(default_factory=clock.utcnow)
    rotated_at: datetime | None = None
    revoked_at: datetime | None = None

    class Settings:
        name = "refresh_tokens"
        indexes = [
            IndexModel([("token_hash", ASCENDING)], unique=True, name="token_hash_unique"),
            IndexModel([("family_id", ASCENDING)], name="by_family"),
            IndexModel([("user_id", ASCENDING)], name="by_user"),
            IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="expiry_ttl"),
        ]


class SignInSession(Document):
    """One sign-in (its id is the refresh-token family and the access tokens' `sid`): where
    and from which device it started, and when it was last refreshed.

    Whether it is live is decided by the account's `session_ids` (read on every request
    anyway), not by this document, so a request costs no extra query."""

    id: str = Field(default_factory=lambda: new_id("ses"))
    user_id: str
    device_id: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    created_at: datetime = Field(default_factory=clock.utcnow)
    last_used_at: datetime = Field(default_factory=clock.utcnow)
    ended_at: datetime | None = None
    expires_at: datetime

    class Settings:
        name = "sign_in_sessions"
        indexes = [
            IndexModel([("user_id", ASCENDING)], name="by_user"),
            IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="expiry_ttl"),
        ]


DOCUMENTS: list[type[Document]] = [RefreshToken, SignInSession]
