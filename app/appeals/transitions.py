"""The appeal state machine: one table of (state, action) → (new state, who may do it).

    (new)  ─file→       open        the suspended dealer or technician (appeals:file)
    open   ─uphold→     upheld      admins with appeals:decide; the account stays suspended
    open   ─reinstate→  reinstated  admins with appeals:decide; the account is active again
                                    and its suspended dealer or technician profile approved
Anything else is 409 and changes nothing.
"""

from dataclasses import dataclass

from app.appeals.models import AppealAction, AppealStatus
from app.core.permissions import Permission

S, A = AppealStatus, AppealAction


@dataclass(frozen=True)
class Move:
    target: AppealStatus
    permission: Permission


TRANSITIONS: dict[tuple[AppealStatus | None, AppealAction], Move] = {
    (None, A.FILE): Move(S.OPEN, Permission.APPEALS_FILE),
    (S.OPEN, A.UPHOLD): Move(S.UPHELD, Permission.APPEALS_DECIDE),
    (S.OPEN, A.REINSTATE): Move(S.REINSTATED, Permission.APPEALS_DECIDE),
}


def move_for(status: AppealStatus | None, action: AppealAction) -> Move | None:
    return TRANSITIONS.get((status, action))


def allowed_actions(status: AppealStatus) -> list[str]:
    return [action.value for (source, action) in TRANSITIONS if source is status]
