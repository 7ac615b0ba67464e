"""The repair state machine: one table of (state, action) → who may take it, and where it leads.

    awaiting_assignment ─assign (admin)→            offered        software jobs start here
    unassigned  ─offer (system)→                    offered        matching found a candidate
    unassigned  ─assign (admin)→                    offered
    offered     ─accept (offered technician)→       accepted
    offered     ─decline (offered technician)→      POOL
    offered     ─expire (system)→                   POOL
    offered, accepted, en_route, on_site ─reassign (admin, reason)→ offered
    accepted    ─start_travel (technician)→         en_route       offline jobs
    en_route    ─arrive (technician)→               on_site        offline jobs
    on_site     ─start (technician)→                in_progress    offline jobs
    accepted    ─start (technician)→                in_progress    online jobs
    in_progress ─complete (technician, notes)→      completed
    awaiting_assignment, unassigned, offered ─cancel (customer; admin with reason)→ cancelled
    accepted, en_route, on_site ─cancel→ customer: cancelled (the cancellation fee applies);
                                         admin (reason): cancelled;
                                         technician (reason): POOL, never offered it again
    in_progress ─cancel (admin, reason)→            cancelled
    accepted    ─rematch (system)→                  POOL           not started long past its time

POOL is where a job waits for a technician: `unassigned` for hardware jobs, where matching
at once offers the next candidate in the same unit of work (`unassigned ─offer→ offered`), or
leaves it `unassigned` and alerts the admins; `awaiting_assignment` for software jobs, where
an admin assigns it. Anything not in the table is 409 and changes nothing; a caller who may
never take the action in any state is 403.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from app.repairs.models import IssueType, RepairMode, RepairStatus


class RepairAction(StrEnum):
    OFFER = "offer"
    ACCEPT = "accept"
    DECLINE = "decline"
    EXPIRE = "expire"
    ASSIGN = "assign"
    REASSIGN = "reassign"
    START_TRAVEL = "start_travel"
    ARRIVE = "arrive"
    START = "start"
    COMPLETE = "complete"
    CANCEL = "cancel"
    REMATCH = "rematch"


class Party(StrEnum):
    CUSTOMER = "customer"
    TECHNICIAN = "technician"  # the assigned technician (accepted)
    OFFERED = "offered"  # the technician holding the live offer
    ADMIN = "admin"  # REPAIRS_ASSIGN (ops, superadmin)
    SYSTEM = "system"


POOL: Literal["pool"] = "pool"
Target = RepairStatus | Literal["pool"]
S, A, P = RepairStatus, RepairAction, Party
ANY_MODE = frozenset(RepairMode)


@dataclass(frozen=True)
class Move:
    targets: dict[Party, Target]
    reason_from: frozenset[Party] = frozenset()
    modes: frozenset[RepairMode] = field(default=ANY_MODE)

    def needs_reason(self, party: Party) -> bool:
        return party in self.reason_from


def _to(target: Target, *parties: Party, reason: tuple[Party, ...] = (),
        modes: frozenset[RepairMode] = ANY_MODE) -> Move:
    return Move({party: target for party in parties}, frozenset(reason), modes)


OFFLINE = frozenset({RepairMode.OFFLINE})
ONLINE = frozenset({RepairMode.ONLINE})
_REASSIGN = _to(S.OFFERED, P.ADMIN, reason=(P.ADMIN,))
_CANCEL_UNASSIGNED = _to(S.CANCELLED, P.CUSTOMER, P.ADMIN, reason=(P.ADMIN,))
_CANCEL_ACCEPTED = Move({P.CUSTOMER: S.CANCELLED, P.ADMIN: S.CANCELLED, P.TECHNICIAN: POOL},
                        frozenset({P.ADMIN, P.TECHNICIAN}))

TRANSITIONS: dict[tuple[RepairStatus, RepairAction], Move] = {
    (S.AWAITING_ASSIGNMENT, A.ASSIGN): _to(S.OFFERED, P.ADMIN),
    (S.UNASSIGNED, A.OFFER): _to(S.OFFERED, P.SYSTEM),
    (S.UNASSIGNED, A.ASSIGN): _to(S.OFFERED, P.ADMIN),
    (S.OFFERED, A.ACCEPT): _to(S.ACCEPTED, P.OFFERED),
    (S.OFFERED, A.DECLINE): _to(POOL, P.OFFERED),
    (S.OFFERED, A.EXPIRE): _to(POOL, P.SYSTEM),
    (S.OFFERED, A.REASSIGN): _REASSIGN,
    (S.ACCEPTED, A.REASSIGN): _REASSIGN,
    (S.EN_ROUTE, A.REASSIGN): _REASSIGN,
    (S.ON_SITE, A.REASSIGN): _REASSIGN,
    (S.ACCEPTED, A.START_TRAVEL): _to(S.EN_ROUTE, P.TECHNICIAN, modes=OFFLINE),
    (S.EN_ROUTE, A.ARRIVE): _to(S.ON_SITE, P.TECHNICIAN, modes=OFFLINE),
    (S.ON_SITE, A.START): _to(S.IN_PROGRESS, P.TECHNICIAN, modes=OFFLINE),
    (S.ACCEPTED, A.START): _to(S.IN_PROGRESS, P.TECHNICIAN, modes=ONLINE),
    (S.IN_PROGRESS, A.COMPLETE): _to(S.COMPLETED, P.TECHNICIAN),
    (S.AWAITING_ASSIGNMENT, A.CANCEL): _CANCEL_UNASSIGNED,
    (S.UNASSIGNED, A.CANCEL): _CANCEL_UNASSIGNED,
    (S.OFFERED, A.CANCEL): _CANCEL_UNASSIGNED,
    (S.ACCEPTED, A.CANCEL): _CANCEL_ACCEPTED,
    (S.EN_ROUTE, A.CANCEL): _CANCEL_ACCEPTED,
    (S.ON_SITE, A.CANCEL): _CANCEL_ACCEPTED,
    (S.IN_PROGRESS, A.CANCEL): _to(S.CANCELLED, P.ADMIN, reason=(P.ADMIN,)),
    (S.ACCEPTED, A.REMATCH): _to(POOL, P.SYSTEM),
}

# Whoever may take an action in some state: a caller outside these gets 403, not 409.
ACTION_PARTIES: dict[RepairAction, frozenset[Party]] = {
    action: frozenset(p for (_, a), move in TRANSITIONS.items() if a is action
                      for p in move.targets)
    for action in RepairAction
}
# States after an acceptance: a customer cancelling in one owes the cancellation fee.
AFTER_ACCEPTANCE = frozenset({S.ACCEPTED, S.EN_ROUTE, S.ON_SITE})


def pool_of(issue_type: IssueType) -> RepairStatus:
    """Where a job waits for a technician: hardware is matched, software assigned."""
    return S.UNASSIGNED if issue_type is IssueType.HARDWARE else S.AWAITING_ASSIGNMENT


def resolve(target: Target, issue_type: IssueType) -> RepairStatus:
    return pool_of(issue_type) if target == POOL else target  # type: ignore[return-value]


def move_for(status: RepairStatus, action: RepairAction, mode: RepairMode) -> Move | None:
    move = TRANSITIONS.get((status, action))
    return move if move is not None and mode in move.modes else None


def acting_party(move: Move, parties: frozenset[Party]) -> Party | None:
    """The capacity in which the caller makes this move (a job's own parties first)."""
    for party in (P.SYSTEM, P.OFFERED, P.TECHNICIAN, P.CUSTOMER, P.ADMIN):
        if party in move.targets and party in parties:
            return party
    return None


def allowed_actions(status: RepairStatus, mode: RepairMode, parties: frozenset[Party]) -> list[str]:
    """The actions these parties may take on a job in `status` (system moves left out)."""
    return [action.value for (source, action), move in TRANSITIONS.items()
            if source is status and mode in move.modes
            and parties & set(move.targets) - {P.SYSTEM}]
