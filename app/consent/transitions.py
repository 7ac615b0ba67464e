"""The two state tables of this domain: consents and remote port sessions.

Consents:
    pending ─grant→  granted    the customer
    pending ─deny→   denied     the customer
    pending ─expire→ expired    the system, its duration after the request
    granted ─revoke→ revoked    the customer or the technician, at any time
    granted ─expire→ expired    the system, its duration after the grant

Remote sessions:
    active ─end→           ended   the technician or the customer
    active ─timeout→       ended   the system, no heartbeat for the timeout
    active ─consent_ended→ ended   the system, its consent revoked or expired
    active ─expire→        ended   the system, at its expiresAt
    active ─job_ended→     ended   the system, the job finished or was reassigned

Anything else is 409 and changes nothing.
"""

from dataclasses import dataclass
from enum import StrEnum

from app.consent.models import ConsentAction, ConsentStatus, SessionAction, SessionStatus


class Party(StrEnum):
    CUSTOMER = "customer"
    TECHNICIAN = "technician"
    SYSTEM = "system"


@dataclass(frozen=True)
class ConsentMove:
    target: ConsentStatus
    by: frozenset[Party]


@dataclass(frozen=True)
class SessionMove:
    target: SessionStatus
    by: frozenset[Party]
    end_reason: str


C, CA = ConsentStatus, ConsentAction
CUSTOMER = frozenset({Party.CUSTOMER})
EITHER = frozenset({Party.CUSTOMER, Party.TECHNICIAN})
SYSTEM = frozenset({Party.SYSTEM})

CONSENT_TRANSITIONS: dict[tuple[ConsentStatus, ConsentAction], ConsentMove] = {
    (C.PENDING, CA.GRANT): ConsentMove(C.GRANTED, CUSTOMER),
    (C.PENDING, CA.DENY): ConsentMove(C.DENIED, CUSTOMER),
    (C.PENDING, CA.EXPIRE): ConsentMove(C.EXPIRED, SYSTEM),
    (C.GRANTED, CA.REVOKE): ConsentMove(C.REVOKED, EITHER),
    (C.GRANTED, CA.EXPIRE): ConsentMove(C.EXPIRED, SYSTEM),
}

S, SA = SessionStatus, SessionAction

SESSION_TRANSITIONS: dict[tuple[SessionStatus, SessionAction], SessionMove] = {
    (S.ACTIVE, SA.END): SessionMove(S.ENDED, EITHER, "ended"),
    (S.ACTIVE, SA.TIMEOUT): SessionMove(S.ENDED, SYSTEM, "heartbeat_timeout"),
    (S.ACTIVE, SA.CONSENT_ENDED): SessionMove(S.ENDED, SYSTEM, "consent_ended"),
    (S.ACTIVE, SA.EXPIRE): SessionMove(S.ENDED, SYSTEM, "expired"),
    (S.ACTIVE, SA.JOB_ENDED): SessionMove(S.ENDED, SYSTEM, "job_ended"),
}

# Who ever takes each consent action (403 for a party outside it, whatever the state).
CONSENT_ACTION_PARTIES: dict[ConsentAction, frozenset[Party]] = {
    action: frozenset().union(*(m.by for (_, a), m in CONSENT_TRANSITIONS.items() if a is action))
    for action in ConsentAction
}


def consent_move(status: ConsentStatus, action: ConsentAction) -> ConsentMove | None:
    return CONSENT_TRANSITIONS.get((status, action))


def session_move(status: SessionStatus, action: SessionAction) -> SessionMove | None:
    return SESSION_TRANSITIONS.get((status, action))


def consent_actions(status: ConsentStatus, party: Party) -> list[str]:
    """The actions `party` may take on a consent in `status`."""
    return [a.value for (s, a), m in CONSENT_TRANSITIONS.items() if s is status and party in m.by]
