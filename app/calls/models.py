"""Beanie documents of this domain, their indexes, and `DOCUMENTS` for init_beanie."""

from datetime import datetime
from enum import StrEnum

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.core import clock
from app.core.ids import new_id


class CallType(StrEnum):
    AUDIO = "audio"
    VIDEO = "video"


class CallStatus(StrEnum):
    RINGING = "ringing"
    ACTIVE = "active"
    ENDED = "ended"
    REJECTED = "rejected"
    MISSED = "missed"
    CANCELLED = "cancelled"


# A live call holds its job's one call slot and may be signalled over.
LIVE_STATUSES = frozenset({CallStatus.RINGING, CallStatus.ACTIVE})


class CallAction(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    END = "end"
    CANCEL = "cancel"
    MISS = "miss"  # the system's, when the ring times out


class CallEvent(BaseModel):
    """One entry of the call's log: what happened, when, by whom."""

    event: str  # started, accepted, rejected, ended, cancelled, missed
    at: datetime
    by: str  # a user id, or "system"
    from_status: CallStatus | None = None
    to_status: CallStatus
    via: str = "api"  # api, socket (a hang-up), system (the ring timeout)


class Call(Document):
    id: str = Field(default_factory=lambda: new_id("call"))
    job_id: str
    job_kind: str
    type: CallType
    caller_id: str
    callee_id: str
    status: CallStatus = CallStatus.RINGING
    # True while ringing or active: the unique partial index `one_live_call_per_job` holds at
    # most one such call per job, so two concurrent starts give one call.
    live: bool = True
    ring_expires_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None
    ended_by: str | None = None
    events: list[CallEvent] = Field(default_factory=list)
    version: int = 1
    created_at: datetime = Field(default_factory=clock.utcnow)
    updated_at: datetime = Field(default_factory=clock.utcnow)

    @property
    def party_ids(self) -> tuple[str, str]:
        return self.caller_id, self.callee_id

    def other_party(self, user_id: str) -> str | None:
        if user_id == self.caller_id:
            return self.callee_id
        if user_id == self.callee_id:
            return self.caller_id
        return None

    class Settings:
        name = "calls"
        indexes = [
            IndexModel([("job_id", ASCENDING)], unique=True, name="one_live_call_per_job",
                       partialFilterExpression={"live": True}),
            IndexModel([("status", ASCENDING), ("ring_expires_at", ASCENDING)],
                       name="ringing_expiry"),
            IndexModel([("job_id", ASCENDING), ("created_at", DESCENDING)], name="by_job"),
        ]


DOCUMENTS: list[type] = [Call]
