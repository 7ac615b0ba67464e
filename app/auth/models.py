from datetime import datetime

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel


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
