"""The dispute state machine: one table of (state, action) → (new state, who may do it).

    (new)     ─open→      open       the buyer; the escrow is frozen (disputed)
    open      ─resolve→   resolving  ops/superadmin: the decision and its amounts are fixed
    resolving ─complete→  resolved   the refund and the release are done (retry-safe)
    open, resolving ─add_note→ same  the buyer, the order's dealer (the repair's technician),
                                     ops/superadmin
"""

from dataclasses import dataclass

from app.disputes.models import DisputeAction, DisputeStatus, NoteAuthor

S, A, P = DisputeStatus, DisputeAction, NoteAuthor


@dataclass(frozen=True)
class Move:
    target: DisputeStatus
    parties: frozenset[NoteAuthor]


TRANSITIONS: dict[tuple[DisputeStatus | None, DisputeAction], Move] = {
    (None, A.OPEN): Move(S.OPEN, frozenset({P.BUYER})),
    (S.OPEN, A.RESOLVE): Move(S.RESOLVING, frozenset({P.ADMIN})),
    (S.RESOLVING, A.COMPLETE): Move(S.RESOLVED, frozenset({P.ADMIN})),
    (S.OPEN, A.ADD_NOTE): Move(S.OPEN, frozenset({P.BUYER, P.DEALER, P.TECHNICIAN, P.ADMIN})),
    (S.RESOLVING, A.ADD_NOTE): Move(S.RESOLVING,
                                    frozenset({P.BUYER, P.DEALER, P.TECHNICIAN, P.ADMIN})),
}


def move_for(status: DisputeStatus | None, action: DisputeAction) -> Move | None:
    return TRANSITIONS.get((status, action))


def allowed_actions(status: DisputeStatus, parties: frozenset[NoteAuthor]) -> list[str]:
    return [
        action.value for (source, action), move in TRANSITIONS.items()
        if source is status and move.parties & parties
    ]


def accepts_notes(status: DisputeStatus) -> bool:
    return move_for(status, A.ADD_NOTE) is not None
