from datetime import datetime
from enum import StrEnum

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.core import clock
from app.core.ids import new_id
from app.core.indexes import string_keyed
from app.core.permissions import Role


class AppealStatus(StrEnum):
    OPEN = "open"
    UPHELD = "upheld"  # the suspension stands
    REINSTATED = "reinstated"


class AppealAction(StrEnum):
    FILE = "file"
    UPHOLD = "uphold"
    REINSTATE = "reinstate"


class Appeal(Document):
    id: str = Field(default_factory=lambda: new_id("apl"))
    user_id: str
    role: Role
    dealer_id: str | None = None
    technician_id: str | None = None
    reason: str
    details: str
    # Why the account was suspended, as it stood when the appeal was filed.
    suspension_reason: str | None = None
    status: AppealStatus = AppealStatus.OPEN
    # The account's id while the appeal is open, unset once decided: a unique key, so two
    # concurrent filings cannot both open one.
    open_key: str | None = None
    decision_note: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    created_at: datetime = Field(default_factory=clock.utcnow)
    updated_at: datetime = Field(default_factory=clock.utcnow)

    class Settings:
        name = "appeals"
        indexes = [
            IndexModel([("open_key", ASCENDING)], unique=True, **string_keyed("open_key"),
                       name="one_open_per_account"),
            IndexModel([("status", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)],
                       name="by_status"),
            IndexModel([("user_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                       name="by_account"),
            IndexModel([("created_at", DESCENDING), ("_id", DESCENDING)], name="newest"),
        ]


DOCUMENTS: list[type] = [Appeal]
