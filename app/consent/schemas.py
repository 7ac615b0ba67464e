"""Request and response models of consents, IMEI reveals and remote port sessions."""

from datetime import datetime
from enum import StrEnum

from pydantic import Field, field_validator

from app.consent.models import (
    ConsentScope,
    ConsentStatus,
    EventType,
    RemoteSessionEvent,
    SessionStatus,
)
from app.core.schemas import APIModel

EVENT_DETAIL_MAX_BYTES = 2048
TOKEN_MAX = 200


class ConsentCreate(APIModel):
    scopes: list[ConsentScope] = Field(min_length=1, max_length=2)
    purpose: str = Field(min_length=10, max_length=500)
    duration_minutes: int = Field(ge=5, le=120)

    @field_validator("scopes")
    @classmethod
    def _distinct(cls, scopes: list[ConsentScope]) -> list[ConsentScope]:
        if len(set(scopes)) != len(scopes):
            raise ValueError("each scope at most once")
        return scopes


class PartyConsentAction(StrEnum):
    """The moves a party asks for (`expire` is the system's)."""

    GRANT = "grant"
    DENY = "deny"
    REVOKE = "revoke"


class ConsentDecision(APIModel):
    action: PartyConsentAction = Field(description="grant / deny (the customer, while "
                                       "pending), revoke (the customer or the technician, "
                                       "while granted)")


class ScopeText(APIModel):
    scope: ConsentScope
    text: str


class ConsentTechnician(APIModel):
    technician_id: str
    name: str
    verification_status: str


class ConsentRead(APIModel):
    id: str
    repair_id: str
    status: ConsentStatus
    technician: ConsentTechnician
    scopes: list[ConsentScope]
    scope_texts: list[ScopeText]
    purpose: str
    duration_minutes: int
    text: str = Field(description="the consent screen as the server generated it")
    text_version: str
    text_sha256: str = Field(description="SHA-256 (hex) of `text` in UTF-8")
    requested_at: datetime
    expires_at: datetime
    granted_at: datetime | None
    granted_ip: str | None
    granted_user_agent: str | None
    decided_at: datetime | None
    ended_at: datetime | None
    allowed_actions: list[str] = Field(description="what the viewer may do now")


class ConsentList(APIModel):
    items: list[ConsentRead]


class ImeiRead(APIModel):
    imei: str


class RemoteSessionOpened(APIModel):
    session_id: str
    session_token: str = Field(description="shown once: the remote-access agents present it")
    expires_at: datetime


class RemoteSessionRead(APIModel):
    id: str
    repair_id: str
    consent_id: str
    status: SessionStatus
    started_at: datetime
    expires_at: datetime
    last_heartbeat_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    event_count: int


class PartySessionAction(StrEnum):
    END = "end"


class RemoteSessionChange(APIModel):
    action: PartySessionAction


class TokenVerify(APIModel):
    session_token: str = Field(min_length=1, max_length=TOKEN_MAX)


class TokenStatus(APIModel):
    live: bool
    session_id: str | None
    expires_at: datetime | None


class SessionEventCreate(APIModel):
    type: EventType
    detail: str = Field(default="", description="at most 2,048 bytes of UTF-8")

    @field_validator("detail")
    @classmethod
    def _bounded(cls, detail: str) -> str:
        if len(detail.encode()) > EVENT_DETAIL_MAX_BYTES:
            raise ValueError(f"at most {EVENT_DETAIL_MAX_BYTES} bytes of UTF-8")
        return detail


class SessionEventRead(APIModel):
    id: str
    session_id: str
    seq: int
    type: EventType
    detail: str
    at: datetime
    by: str
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, event: RemoteSessionEvent) -> "SessionEventRead":
        return cls.model_validate(event)


class SessionLog(APIModel):
    session_id: str
    repair_id: str
    status: SessionStatus
    end_reason: str | None
    events: list[SessionEventRead]
    chain_valid: bool = Field(description="the chain recomputed: no event edited, "
                              "removed or reordered")


