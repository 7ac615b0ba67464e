from datetime import datetime
from enum import StrEnum

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.core import clock
from app.core.ids import new_id
from app.core.permissions import AccountStatus, Role


class BuyerType(StrEnum):
    B2C = "b2c"
    B2B = "b2b"


class BusinessVerification(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class Business(BaseModel):
    legal_name: str
    gstin: str
    verification: BusinessVerification = BusinessVerification.PENDING
    reason: str | None = None
    verified_at: datetime | None = None


class User(Document):
    id: str = Field(default_factory=lambda: new_id("usr"))
    email: str
    password_hash: str
    role: Role
    name: str | None = None
    phone: str | None = None
    status: AccountStatus
    status_reason: str | None = None
    scopes: list[str] = Field(default_factory=list)
    business: Business | None = None
    buyer_type: BuyerType = BuyerType.B2C
    # The profile this account acts for, set when the profile is created, so the caller is
    # resolved with one read per request.
    dealer_id: str | None = None
    technician_id: str | None = None
    # The account's live sign-in sessions (access tokens' `sid`), oldest first, bounded by
    # MAX_SESSIONS_PER_ACCOUNT: the auth dependency reads the account on every request
    # anyway, so an ended session is refused without another query.
    session_ids: list[str] = Field(default_factory=list)
    # Install ids (X-Device-Id) the account has signed in from, newest last, bounded.
    device_ids: list[str] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=clock.utcnow)
    updated_at: datetime = Field(default_factory=clock.utcnow)

    class Settings:
        name = "users"
        indexes = [
            IndexModel([("email", ASCENDING)], unique=True, name="email_unique"),
            IndexModel(
                [("role", ASCENDING), ("status", ASCENDING), ("created_at", DESCENDING)],
                name="by_role_status",
            ),
            IndexModel([("created_at", DESCENDING), ("_id", DESCENDING)], name="newest"),
            # The admins' queue of B2B applicants awaiting verification, oldest first.
            IndexModel([("business.verification", ASCENDING), ("created_at", ASCENDING),
                        ("_id", ASCENDING)], name="by_business_verification"),
        ]
