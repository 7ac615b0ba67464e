"""The dealer state machine: one table of (state, action) → (new state, who may do it).

Every move needs `dealers:manage` (the route checks it); the table adds the rest:

    pending                      ─approve→    approved   no reason needed
    approved                     ─suspend→    suspended  with a reason
    pending, approved, suspended ─block→      blocked    with a reason
    suspended                    ─reinstate→  approved   with a reason
    blocked                      ─reinstate→  approved   an override: the ops leader only, with a reason
"""

from dataclasses import dataclass

from app.core.permissions import Permission
from app.dealers.models import DealerStatus
from app.dealers.schemas import DealerAction

S, A = DealerStatus, DealerAction


@dataclass(frozen=True)
class Move:
    target: DealerStatus
    reason_required: bool = True
    # Set on an override: a move the rules otherwise refuse, which only the holders of this
    # permission may make (asked for with `override: true`, always with a reason).
    override_by: Permission | None = None


TRANSITIONS: dict[tuple[DealerStatus, DealerAction], Move] = {
    (S.PENDING, A.APPROVE): Move(S.APPROVED, reason_required=False),
    (S.APPROVED, A.SUSPEND): Move(S.SUSPENDED),
    (S.PENDING, A.BLOCK): Move(S.BLOCKED),
    (S.APPROVED, A.BLOCK): Move(S.BLOCKED),
    (S.SUSPENDED, A.BLOCK): Move(S.BLOCKED),
    (S.SUSPENDED, A.REINSTATE): Move(S.APPROVED),
    (S.BLOCKED, A.REINSTATE): Move(S.APPROVED, override_by=Permission.BLOCKS_LIFT),
}


def move_for(status: DealerStatus, action: DealerAction) -> Move | None:
    return TRANSITIONS.get((status, action))


def allowed_actions(status: DealerStatus) -> list[str]:
    """The actions open to a dealer in `status` (overrides aside), in the order of DealerAction."""
    return [
        action.value
        for action in DealerAction
        if (move := TRANSITIONS.get((status, action))) and move.override_by is None
    ]
