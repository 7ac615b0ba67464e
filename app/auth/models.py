from datetime import datetime

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.core.clock import utcnow
from app.core.ids import new_id


class RefreshToken(Document):
    """One issued refresh token; only its SHA-256 is stored. A family is one sign-in."""

    id: str = Field(default_factory=lambda: new_id("rtk"))
    family_id: str
    user_id: str
    token_hash: str
    expires_at: datetime
    created_at: datetime = Field(default_factory=utcnow)
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


class LoginFailure(Document):
    """A failed sign-in, kept only as long as the lockout rule can look at it."""

    id: str = Field(default_factory=lambda: new_id("lgf"))
    email: str
    at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "login_failures"
        indexes = [
            IndexModel([("email", ASCENDING), ("at", DESCENDING)], name="by_email"),
            IndexModel([("at", ASCENDING)], expireAfterSeconds=3600, name="expiry_ttl"),
        ]
