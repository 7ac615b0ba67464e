"""The errors this domain raises, each an AppError subclass with its status and message."""

from typing import Any

from app.core.errors import Forbidden, IllegalTransition, NotFound, RuleViolation

MODE_NOT_ALLOWED = "MODE_NOT_ALLOWED"
INVALID_IMEI = "INVALID_IMEI"
SKILL_MISMATCH = "SKILL_MISMATCH"
TECHNICIAN_UNAVAILABLE = "TECHNICIAN_UNAVAILABLE"


class RepairNotFound(NotFound):
    default_message = "Repair not found"


class IllegalRepairTransition(IllegalTransition):
    default_message = "This action is not allowed in the repair's current state"


class RepairActionForbidden(Forbidden):
    default_message = "You may not take this action on this repair"


class IllegalQuoteTransition(IllegalTransition):
    default_message = "This action is not allowed in the job's or quote's current state"


class QuoteNotAccepted(RuleViolation):
    default_message = "The job has no accepted quote to pay"


class RepairRuleViolation(RuleViolation):
    """A booking or assignment rule: `data.ruleFlags` names it, `data.errors` the field."""

    def __init__(self, flag: str | None, field: str, message: str) -> None:
        data: dict[str, Any] = {"errors": [{"field": field, "message": message}]}
        if flag:
            data["ruleFlags"] = [flag]
        super().__init__(message, data)
