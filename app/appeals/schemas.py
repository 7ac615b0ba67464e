from datetime import datetime
from enum import StrEnum

from pydantic import Field

from app.appeals.models import AppealAction, AppealStatus
from app.core.permissions import Role
from app.core.schemas import APIModel


class AppealCreate(APIModel):
    reason: str = Field(min_length=3, max_length=200, description="Why the suspension is wrong")
    details: str = Field(min_length=1, max_length=4000,
                         description="What happened and what has been done since")


class Decision(StrEnum):
    UPHOLD = AppealAction.UPHOLD.value
    REINSTATE = AppealAction.REINSTATE.value


class AppealDecision(APIModel):
    action: Decision = Field(description="uphold: the suspension stands; reinstate: the account "
                             "is active again (and its suspended dealer or technician profile "
                             "approved)")
    note: str = Field(min_length=3, max_length=500,
                      description="The decision's reason, shown to the account and audited")


class AppealRead(APIModel):
    id: str
    user_id: str
    role: Role
    dealer_id: str | None = None
    technician_id: str | None = None
    reason: str
    details: str
    suspension_reason: str | None = None
    status: AppealStatus
    decision_note: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    allowed_actions: list[str] = Field(default_factory=list)
    created_at: datetime
