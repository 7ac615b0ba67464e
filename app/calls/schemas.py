"""Request and response models of the calls API and its Socket.IO events."""

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from app.calls.models import Call, CallStatus, CallType
from app.core.schemas import APIModel

# What a browser's RTCSessionDescription carries is a few KiB; 16 KiB leaves room for many
# tracks and candidates, and bounds what one event makes the server hold and relay.
SDP_MAX_BYTES = 16 * 1024
ID_MAX = 64


class PartyAction(StrEnum):
    """The moves a party asks for (`miss` is the system's)."""

    ACCEPT = "accept"
    REJECT = "reject"
    END = "end"
    CANCEL = "cancel"


class CallCreate(APIModel):
    job_id: str = Field(min_length=1, max_length=ID_MAX, description="rep_… or ord_…")
    type: CallType


class CallStatusChange(APIModel):
    action: PartyAction = Field(description="accept / reject (the callee, while ringing), "
                                "cancel (the caller, while ringing), end (either, while active)")


class CallRead(APIModel):
    id: str
    job_id: str
    type: CallType
    caller_id: str
    callee_id: str
    status: CallStatus
    ring_expires_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    created_at: datetime
    updated_at: datetime


class CallLogEvent(APIModel):
    event: str
    at: datetime
    by: str
    from_status: CallStatus | None
    to_status: CallStatus
    via: str


class CallParticipants(APIModel):
    caller_id: str
    callee_id: str


class CallLog(APIModel):
    call_id: str
    job_id: str
    type: CallType
    status: CallStatus
    participants: CallParticipants
    direction: str | None = Field(description="outgoing / incoming as the viewer sees it; "
                                  "null for an admin")
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration: int | None = Field(description="whole seconds from accept to end; null when "
                                 "the call was never answered or is still active")
    end_reason: str | None = Field(description="hangup, rejected, cancelled, no_answer")
    ended_by: str | None
    events: list[CallLogEvent]

    @classmethod
    def of(cls, call: Call, viewer_id: str) -> "CallLog":
        duration = None
        if call.answered_at is not None and call.ended_at is not None:
            duration = int((call.ended_at - call.answered_at).total_seconds())
        direction = ("outgoing" if viewer_id == call.caller_id
                     else "incoming" if viewer_id == call.callee_id else None)
        return cls(
            call_id=call.id, job_id=call.job_id, type=call.type, status=call.status,
            participants=CallParticipants(caller_id=call.caller_id, callee_id=call.callee_id),
            direction=direction, started_at=call.created_at, answered_at=call.answered_at,
            ended_at=call.ended_at, duration=duration, end_reason=call.end_reason,
            ended_by=call.ended_by,
            events=[CallLogEvent.model_validate(event) for event in call.events],
        )


class IceServer(APIModel):
    """One entry of RTCConfiguration.iceServers."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None


class IceServers(APIModel):
    ice_servers: list[IceServer]
    ttl_seconds: int
    expires_at: datetime


# Socket.IO payloads (client → server).

class CallRef(APIModel):
    call_id: str = Field(min_length=1, max_length=ID_MAX)


class SdpSignal(CallRef):
    # An SDP is relayed byte for byte: its closing CRLF is part of it.
    model_config = APIModel.model_config | {"str_strip_whitespace": False}

    # Characters here; the byte limit (SDP_MAX_BYTES) is checked by the service.
    sdp: str = Field(min_length=1, max_length=4 * SDP_MAX_BYTES)


class IceCandidate(APIModel):
    """RTCIceCandidate.toJSON() as a browser sends it."""

    model_config = APIModel.model_config | {"str_strip_whitespace": False}

    candidate: str = Field(max_length=2048)
    sdp_mid: str | None = Field(default=None, max_length=64)
    sdp_m_line_index: int | None = Field(default=None, ge=0, le=1024)
    username_fragment: str | None = Field(default=None, max_length=256)


class IceSignal(CallRef):
    candidate: IceCandidate | None = Field(description="null signals the end of candidates")
