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


class LoginThrottle(Document):
    """Sign-in attempts on one email in its current window, and the lockout they caused.

    One document per email, changed only by conditional updates: an attempt is counted
    before its password is checked, so a burst of concurrent guesses cannot all slip in.
    """

    id: str  # the normalised email
    failures: int = Field(description="Failed (and in-flight) attempts in this window")
    window_started_at: datetime
    locked_until: datetime | None = None
    expires_at: datetime

    class Settings:
        name = "login_throttles"
        indexes = [
            IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="expiry_ttl"),
        ]
