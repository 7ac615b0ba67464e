"""The errors this domain raises, each an AppError subclass with its status, message and
`data.code`."""

from typing import Any

from app.core.errors import Conflict, Forbidden, IllegalTransition, NotFound, RuleViolation

CONSENT_REQUIRED = "CONSENT_REQUIRED"
ONLINE_ONLY = "ONLINE_ONLY"
SOFTWARE_SKILL_REQUIRED = "SOFTWARE_SKILL_REQUIRED"
CONSENT_PENDING = "CONSENT_PENDING"
SESSION_ACTIVE = "SESSION_ACTIVE"
SESSION_ENDED = "SESSION_ENDED"
INVALID_SESSION_TOKEN = "INVALID_SESSION_TOKEN"
JOB_NOT_ACTIVE = "JOB_NOT_ACTIVE"
NO_IMEI = "NO_IMEI"


def _coded(code: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, **(extra or {})}


class ConsentNotFound(NotFound):
    default_message = "Consent not found"


class RemoteSessionNotFound(NotFound):
    default_message = "Remote session not found"


class NotAConsentParty(Forbidden):
    default_message = "Only the job's customer and its assigned technician act on consents"


class WrongConsentParty(Forbidden):
    default_message = "The other party of this consent takes this action"


class AssignedTechnicianOnly(Forbidden):
    default_message = "Only the job's assigned technician may do this"


class SoftwareSkillRequired(Forbidden):
    default_message = "Only a technician with the software skill may do this"

    def __init__(self) -> None:
        super().__init__(None, _coded(SOFTWARE_SKILL_REQUIRED))


class ConsentRequired(Forbidden):
    default_message = "The customer's granted, unexpired consent is required"

    def __init__(self, scope: str) -> None:
        super().__init__(None, _coded(CONSENT_REQUIRED, {"scope": scope}))


class ConsentRuleViolation(RuleViolation):
    def __init__(self, message: str, flag: str, field: str = "body.scopes") -> None:
        super().__init__(message, {"ruleFlags": [flag], "code": flag,
                                   "errors": [{"field": field, "message": message}]})


class OnlineOnly(RuleViolation):
    default_message = "Remote port sessions are for online jobs only"

    def __init__(self) -> None:
        super().__init__(None, {"code": ONLINE_ONLY, "ruleFlags": [ONLINE_ONLY]})


class ConsentAlreadyPending(Conflict):
    default_message = "This job already has a pending consent request"

    def __init__(self) -> None:
        super().__init__(None, _coded(CONSENT_PENDING))


class JobNotActive(Conflict):
    default_message = "The job is not accepted, or already finished"

    def __init__(self, status: str) -> None:
        super().__init__(None, _coded(JOB_NOT_ACTIVE, {"status": status}))


class IllegalConsentTransition(IllegalTransition):
    default_message = "This consent cannot take that action in its state"


class SessionAlreadyActive(Conflict):
    default_message = "This job already has an active remote session"

    def __init__(self) -> None:
        super().__init__(None, _coded(SESSION_ACTIVE))


class SessionEnded(Conflict):
    default_message = "The remote session has ended"

    def __init__(self, end_reason: str | None) -> None:
        super().__init__(None, _coded(SESSION_ENDED, {"endReason": end_reason}))


class InvalidSessionToken(Forbidden):
    default_message = "X-Session-Token is missing or is not this session's"

    def __init__(self) -> None:
        super().__init__(None, _coded(INVALID_SESSION_TOKEN))


class NoImei(NotFound):
    default_message = "This repair has no IMEI on record"

    def __init__(self) -> None:
        super().__init__(None, _coded(NO_IMEI))
