from datetime import datetime

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel


class LoginThrottle(Document):
    """Failed sign-ins of one (email, IP) pair — `pair:<ip>:<email>` — or of one IP over all
    emails — `ip:<ip>` — and the throttle they caused (app/auth/throttle.py).

    Changed only by conditional updates. For a pair, `checking` counts password checks in
    flight and `used` = failures + checking, so a burst of guesses gets no more checks than
    the failure budget has left; a correct password gives its check back."""

    id: str
    failures: int = Field(default=0, description="Wrong passwords not yet forgotten")
    checking: int = Field(default=0, description="Password checks in flight (pairs only)")
    used: int = Field(default=0, description="failures + checking (pairs only)")
    blocked_until: datetime | None = None
    expires_at: datetime

    class Settings:
        name = "login_throttles"
        indexes = [
            IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="expiry_ttl"),
        ]
