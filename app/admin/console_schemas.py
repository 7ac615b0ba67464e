"""Responses of the governance console: the approval queue, the overrides and the dashboard."""

from datetime import datetime

from pydantic import Field

from app.core.schemas import APIModel


class DecideWith(APIModel):
    method: str = Field(examples=["PATCH"])
    path: str = Field(examples=["/api/dealers/dlr_0123/status"])


class ApprovalItem(APIModel):
    kind: str = Field(description="dealer, technician, b2b_buyer, payout_account")
    subject_id: str
    since: datetime = Field(description="When it started waiting for a decision")
    decide_with: DecideWith = Field(description="The route that decides it")


class OverrideRead(APIModel):
    id: str = Field(description="The audit entry's id")
    action: str
    subject_type: str
    subject_id: str
    reason: str
    actor_id: str
    at: datetime


class EscrowHeld(APIModel):
    count: int = Field(description="Payments whose escrow holds money (held, on hold, disputed)")
    amount: int = Field(description="Paise held in those escrows")


class AdminDashboard(APIModel):
    pending_approvals: dict[str, int] = Field(
        description="Items awaiting an admin decision, per approval kind")
    open_disputes: int = Field(description="Disputes open or being resolved")
    escrow_held: EscrowHeld
    payments_stuck: int = Field(description="Payments still `created` after "
                                            "PAYMENT_STUCK_AFTER_MINUTES")
    open_alerts: int = Field(description="Alerts not acknowledged")
    repairs_unassigned: int = Field(description="Repairs unassigned or awaiting assignment")
    overrides_last_30_days: int = Field(alias="overridesLast30Days",
                                        description="Override rights used in the last 30 days")
