"""The call state machine: one table of (state, action) → (new state, who may do it).

    ringing ─accept→ active      the callee
    ringing ─reject→ rejected    the callee
    ringing ─cancel→ cancelled   the caller
    ringing ─miss→   missed      the system, CALL_RING_TIMEOUT_SECONDS after the start
    active  ─end→    ended       either party

Anything else is 409 and changes nothing; an admin is never a party (403).
"""

from dataclasses import dataclass
from enum import StrEnum

from app.calls.models import CallAction, CallStatus


class Party(StrEnum):
    CALLER = "caller"
    CALLEE = "callee"
    EITHER = "either"
    SYSTEM = "system"


@dataclass(frozen=True)
class Move:
    target: CallStatus
    by: Party
    event: str  # the log entry's name
    end_reason: str | None = None  # set when the move ends the call


S, A = CallStatus, CallAction

TRANSITIONS: dict[tuple[CallStatus, CallAction], Move] = {
    (S.RINGING, A.ACCEPT): Move(S.ACTIVE, Party.CALLEE, "accepted"),
    (S.RINGING, A.REJECT): Move(S.REJECTED, Party.CALLEE, "rejected", "rejected"),
    (S.RINGING, A.CANCEL): Move(S.CANCELLED, Party.CALLER, "cancelled", "cancelled"),
    (S.RINGING, A.MISS): Move(S.MISSED, Party.SYSTEM, "missed", "no_answer"),
    (S.ACTIVE, A.END): Move(S.ENDED, Party.EITHER, "ended", "hangup"),
}


def move_for(status: CallStatus, action: CallAction) -> Move | None:
    return TRANSITIONS.get((status, action))


def may_make(move: Move, user_id: str, caller_id: str, callee_id: str) -> bool:
    if move.by is Party.CALLER:
        return user_id == caller_id
    if move.by is Party.CALLEE:
        return user_id == callee_id
    if move.by is Party.EITHER:
        return user_id in (caller_id, callee_id)
    return False


def allowed_actions(status: CallStatus) -> list[str]:
    """The actions a party may ask for in `status` (the system's aside)."""
    return [action.value for (state, action), move in TRANSITIONS.items()
            if state is status and move.by is not Party.SYSTEM]


def hangup_action(status: CallStatus, user_id: str, caller_id: str) -> CallAction:
    """What a `call:hangup` means: ending an active call, or, while it rings, the caller
    cancelling it or the callee rejecting it."""
    if status is CallStatus.RINGING:
        return CallAction.CANCEL if user_id == caller_id else CallAction.REJECT
    return CallAction.END
