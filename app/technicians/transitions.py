"""The technician state machine: one table of (state, action) → new state.

Every move needs `technicians:manage` (admins with ops or compliance; the route checks it);
lifting a block is an override, which only the ops leader makes (`accounts:lift-block`):

    pending    ─approve→    approved   no reason needed; activates the account
    pending    ─reject→     rejected   with a reason
    approved   ─suspend→    suspended  with a reason; the account is suspended too
    approved   ─block→      blocked    with a reason; the account is blocked too
    suspended  ─reinstate→  approved   with a reason; the account is active again
    suspended  ─block→      blocked    with a reason
    blocked    ─reinstate→  approved   an override with a reason; lifts the account's block too
Anything else is 409. Suspending or blocking makes the technician unavailable at once.
"""

from dataclasses import dataclass

from app.core.permissions import Permission
from app.technicians.models import TechnicianStatus
from app.technicians.schemas import TechnicianAction

S, A = TechnicianStatus, TechnicianAction


@dataclass(frozen=True)
class Move:
    target: TechnicianStatus
    reason_required: bool = True
    # Set on an override: only the holders of this permission make the move, audited as such.
    override_by: Permission | None = None


TRANSITIONS: dict[tuple[TechnicianStatus, TechnicianAction], Move] = {
    (S.PENDING, A.APPROVE): Move(S.APPROVED, reason_required=False),
    (S.PENDING, A.REJECT): Move(S.REJECTED),
    (S.APPROVED, A.SUSPEND): Move(S.SUSPENDED),
    (S.APPROVED, A.BLOCK): Move(S.BLOCKED),
    (S.SUSPENDED, A.REINSTATE): Move(S.APPROVED),
    (S.SUSPENDED, A.BLOCK): Move(S.BLOCKED),
    (S.BLOCKED, A.REINSTATE): Move(S.APPROVED, override_by=Permission.BLOCKS_LIFT),
}


def move_for(status: TechnicianStatus, action: TechnicianAction) -> Move | None:
    return TRANSITIONS.get((status, action))


def allowed_actions(status: TechnicianStatus) -> list[str]:
    """The actions open to a technician in `status`, in the order of TechnicianAction."""
    return [action.value for action in TechnicianAction if (status, action) in TRANSITIONS]
