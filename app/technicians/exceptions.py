"""The errors this domain raises, each an AppError subclass with its status and message."""

from app.core.errors import Conflict, Forbidden, IllegalTransition, NotFound, RuleViolation

# Rule flags of refused fixes and of going available without a usable fix.
LOCATION_IMPLAUSIBLE = "LOCATION_IMPLAUSIBLE"
LOCATION_REQUIRED = "LOCATION_REQUIRED"


class TechnicianNotFound(NotFound):
    default_message = "Technician not found"


class TechnicianProfileExists(Conflict):
    default_message = "This account already has a technician profile"


class NameRequired(RuleViolation):
    default_message = ("Set your name first (PATCH /api/users/me): customers see it on your "
                       "technician profile")


class IllegalTechnicianTransition(IllegalTransition):
    default_message = "This technician status change is not allowed"


class TechnicianNotApproved(Forbidden):
    default_message = "Your technician profile is not approved"


class NotYourTechnicianProfile(NotFound):
    """Another technician's profile: answered as not found, never as someone else's."""

    default_message = "Technician not found"


class SkillsByAdminsOnly(Forbidden):
    default_message = "Skills are set by admins (ops or compliance), not by the technician"


class ProfileNotEditable(IllegalTransition):
    default_message = "Only a pending or approved technician profile can be edited"


class LocationImplausible(RuleViolation):
    """A fix refused for its time or plausibility; `reasons` lists every code that applies."""

    default_message = "Location fix refused"

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(
            f"Location fix refused: {', '.join(reasons)}",
            {"ruleFlags": [LOCATION_IMPLAUSIBLE], "reasons": reasons},
        )


class LocationRequired(RuleViolation):
    default_message = "Going available needs a fresh, accurate location fix"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, {"ruleFlags": [LOCATION_REQUIRED]})


class FixConflict(Conflict):
    default_message = "Another fix or change of this technician was saved meanwhile; send again"
