"""The chat state table: (status, action) → (new status, who may do it).

    open   ─close→ closed    an admin; the system CHAT_CLOSE_AFTER_DAYS after the job finished
    open   ─lock→  locked    an admin; the system when a dispute of the job opens
    closed ─lock→  locked    an admin; the system (a dispute opened after the chat closed)
    closed ─open→  open      an admin
    locked ─open→  open      an admin
    locked ─close→ closed    an admin
Only an open chat accepts messages.
"""

from dataclasses import dataclass
from enum import StrEnum

from app.chat.models import ChatStatus


class ChatAction(StrEnum):
    OPEN = "open"
    CLOSE = "close"
    LOCK = "lock"


class Mover(StrEnum):
    ADMIN = "admin"
    SYSTEM = "system"


@dataclass(frozen=True)
class Move:
    target: ChatStatus
    movers: frozenset[Mover]


S, A = ChatStatus, ChatAction
ADMIN, BOTH = frozenset({Mover.ADMIN}), frozenset({Mover.ADMIN, Mover.SYSTEM})

TRANSITIONS: dict[tuple[ChatStatus, ChatAction], Move] = {
    (S.OPEN, A.CLOSE): Move(S.CLOSED, BOTH),
    (S.OPEN, A.LOCK): Move(S.LOCKED, BOTH),
    (S.CLOSED, A.LOCK): Move(S.LOCKED, BOTH),
    (S.CLOSED, A.OPEN): Move(S.OPEN, ADMIN),
    (S.LOCKED, A.OPEN): Move(S.OPEN, ADMIN),
    (S.LOCKED, A.CLOSE): Move(S.CLOSED, ADMIN),
}

# The action that leads to each status (the admin route names the status it wants).
ACTION_TO: dict[ChatStatus, ChatAction] = {S.OPEN: A.OPEN, S.CLOSED: A.CLOSE, S.LOCKED: A.LOCK}


def move_for(status: ChatStatus, action: ChatAction, mover: Mover) -> Move | None:
    move = TRANSITIONS.get((status, action))
    return move if move is not None and mover in move.movers else None


def accepts_messages(status: ChatStatus) -> bool:
    return status is ChatStatus.OPEN
