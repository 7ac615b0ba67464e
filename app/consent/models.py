"""Beanie documents of this domain, their indexes, and `DOCUMENTS` for init_beanie."""

from datetime import datetime
from enum import StrEnum

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, IndexModel

from app.core import clock
from app.core.ids import new_id


class ConsentScope(StrEnum):
    IMEI_ACCESS = "imei_access"
    REMOTE_PORT = "remote_port"


class ConsentStatus(StrEnum):
    PENDING = "pending"
    GRANTED = "granted"
    DENIED = "denied"
    EXPIRED = "expired"
    REVOKED = "revoked"


# A consent in one of these may still change by the clock (its `expires_at`).
OPEN_CONSENT_STATUSES = frozenset({ConsentStatus.PENDING, ConsentStatus.GRANTED})


class ConsentAction(StrEnum):
    GRANT = "grant"
    DENY = "deny"
    REVOKE = "revoke"
    EXPIRE = "expire"  # the system's, when the duration has run out


class ConsentChange(BaseModel):
    from_status: ConsentStatus | None
    to_status: ConsentStatus
    action: str
    by: str  # a user id, or "system"
    at: datetime


class Consent(Document):
    """A technician's request to the customer for `scopes` on one job, and its answer.

    `text` is the consent screen exactly as the server generated it (version `text_version`),
    `text_sha256` its SHA-256: the record proves what the customer was shown."""

    id: str = Field(default_factory=lambda: new_id("cns"))
    repair_id: str
    customer_id: str
    technician_id: str  # tch_…
    technician_user_id: str
    scopes: list[ConsentScope]
    purpose: str
    duration_minutes: int
    status: ConsentStatus = ConsentStatus.PENDING
    text: str
    text_version: str
    text_sha256: str
    requested_at: datetime
    # A pending request lapses after its duration unanswered; a grant runs that long from then.
    expires_at: datetime
    granted_at: datetime | None = None
    granted_ip: str | None = None
    granted_user_agent: str | None = None
    decided_at: datetime | None = None
    ended_at: datetime | None = None  # revoked or expired
    ended_by: str | None = None
    history: list[ConsentChange] = Field(default_factory=list)
    version: int = 1
    updated_at: datetime = Field(default_factory=clock.utcnow)

    class Settings:
        name = "consents"
        indexes = [
            IndexModel([("repair_id", ASCENDING), ("requested_at", ASCENDING)], name="by_repair"),
            # At most one pending request per job: a second insert fails.
            IndexModel([("repair_id", ASCENDING)], unique=True, name="one_pending_per_repair",
                       partialFilterExpression={"status": ConsentStatus.PENDING.value}),
            IndexModel([("status", ASCENDING), ("expires_at", ASCENDING)], name="by_expiry"),
        ]


class SessionStatus(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


class SessionAction(StrEnum):
    END = "end"  # a party's
    TIMEOUT = "timeout"  # no heartbeat for REMOTE_SESSION_HEARTBEAT_TIMEOUT_SECONDS
    CONSENT_ENDED = "consent_ended"  # its consent was revoked or expired
    EXPIRE = "expire"  # its own expiresAt passed
    JOB_ENDED = "job_ended"  # the job finished, or another technician took it


class EventType(StrEnum):
    HEARTBEAT = "heartbeat"
    PORT_OPEN = "port_open"
    PORT_CLOSE = "port_close"
    COMMAND = "command"
    FILE_TRANSFER = "file_transfer"
    NOTE = "note"


class RemoteSession(Document):
    """A remote port session on an online job, under a granted `remote_port` consent.

    Only the SHA-256 of the session token is kept. `event_count` and `last_hash` are the head
    of the session's event chain; appending moves them conditionally, so two concurrent
    appends cannot both take the same place."""

    id: str = Field(default_factory=lambda: new_id("rms"))
    repair_id: str
    consent_id: str
    customer_id: str
    technician_id: str
    technician_user_id: str
    token_sha256: str
    status: SessionStatus = SessionStatus.ACTIVE
    # True while active: `one_active_per_repair` keeps one such session per job.
    live: bool = True
    started_at: datetime
    expires_at: datetime
    last_heartbeat_at: datetime
    heartbeat_due_at: datetime
    ended_at: datetime | None = None
    end_reason: str | None = None
    ended_by: str | None = None
    event_count: int = 0
    last_hash: str
    version: int = 1

    @property
    def party_ids(self) -> tuple[str, str]:
        return self.customer_id, self.technician_user_id

    class Settings:
        name = "remote_sessions"
        indexes = [
            IndexModel([("repair_id", ASCENDING)], unique=True, name="one_active_per_repair",
                       partialFilterExpression={"live": True}),
            # Every session of a job, ended ones too (the partial index above holds only live).
            IndexModel([("repair_id", ASCENDING), ("started_at", ASCENDING)], name="by_repair"),
            IndexModel([("token_sha256", ASCENDING)], unique=True, name="by_token"),
            IndexModel([("consent_id", ASCENDING), ("status", ASCENDING)], name="by_consent"),
            IndexModel([("status", ASCENDING), ("heartbeat_due_at", ASCENDING)],
                       name="by_heartbeat_due"),
            IndexModel([("status", ASCENDING), ("expires_at", ASCENDING)], name="by_expiry"),
        ]


class RemoteSessionEvent(Document):
    """One entry of a session's activity log; `hash` covers it and the previous entry's."""

    id: str = Field(default_factory=lambda: new_id("rse"))
    session_id: str
    seq: int  # 1, 2, … within the session
    type: EventType
    detail: str
    at: datetime
    by: str
    prev_hash: str
    hash: str

    class Settings:
        name = "remote_session_events"
        indexes = [
            IndexModel([("session_id", ASCENDING), ("seq", ASCENDING)], unique=True,
                       name="chain_position"),
        ]


DOCUMENTS: list[type] = [Consent, RemoteSession, RemoteSessionEvent]
