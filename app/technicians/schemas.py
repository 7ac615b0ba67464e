"""Request and response models of the technicians API (what the client sends and sees)."""

from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, Field, model_validator

from app.core.permissions import Actor
from app.core.redaction import ShownActor, shown_actor
from app.core.schemas import APIModel
from app.core.validators import Pincode, Reason
from app.technicians.models import Skill, Technician, TechnicianStatus


class CertificationIn(APIModel):
    name: str = Field(min_length=2, max_length=120)
    issuer: str = Field(min_length=2, max_length=120)
    number: str = Field(min_length=1, max_length=80)


class LatLngIn(APIModel):
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


class TechnicianCreate(APIModel):
    skills: list[Skill] = Field(min_length=1, max_length=2, description="hardware and/or software")
    specialities: list[str] = Field(
        default_factory=list, max_length=20, description='e.g. "display", "battery", "board-level"'
    )
    certifications: list[CertificationIn] = Field(max_length=20)
    service_pincodes: list[Pincode] = Field(min_length=1, max_length=50)
    base_location: LatLngIn
    bio: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _deduplicated(self) -> "TechnicianCreate":
        self.skills = [Skill(s) for s in _unique(list(self.skills))]
        self.specialities = _unique([s.lower() for s in self.specialities if s])
        self.service_pincodes = _unique(self.service_pincodes)
        return self


class TechnicianUpdate(APIModel):
    """What may change: the owner edits the first four; `skills` only admins (ops, compliance)."""

    bio: str | None = Field(default=None, max_length=1000)
    specialities: list[str] | None = Field(default=None, max_length=20)
    certifications: list[CertificationIn] | None = Field(default=None, max_length=20)
    service_pincodes: list[Pincode] | None = Field(default=None, min_length=1, max_length=50)
    skills: list[Skill] | None = Field(default=None, min_length=1, max_length=2)

    @model_validator(mode="after")
    def _something_to_change(self) -> "TechnicianUpdate":
        if not self.model_fields_set:
            raise ValueError("send at least one of bio, specialities, certifications, "
                             "servicePincodes, skills")
        nulled = sorted(name for name in self.model_fields_set - {"bio"}
                        if getattr(self, name) is None)
        if nulled:
            raise ValueError(f"only bio may be null (not {', '.join(nulled)})")
        if self.skills is not None:
            self.skills = [Skill(s) for s in _unique(list(self.skills))]
        if self.specialities is not None:
            self.specialities = _unique([s.lower() for s in self.specialities if s])
        if self.service_pincodes is not None:
            self.service_pincodes = _unique(self.service_pincodes)
        return self


class TechnicianAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    SUSPEND = "suspend"
    BLOCK = "block"
    REINSTATE = "reinstate"


class TechnicianStatusIn(APIModel):
    action: TechnicianAction
    reason: Reason | None = Field(default=None, description="required except to approve")


class FixIn(APIModel):
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    accuracy_m: float = Field(gt=0, le=100_000, description="metres; worse than 100 is stored "
                              "but keeps the technician out of search")
    recorded_at: AwareDatetime = Field(description="when the device took the fix (with its offset)")
    is_mock: bool = Field(default=False, description="the device marks the fix as mock")
    speed_mps: float | None = Field(default=None, ge=0, le=1000)


class AvailabilityIn(APIModel):
    available: bool


class RatingRead(APIModel):
    average: float
    count: int
    bayesian: float = Field(description="(C·m + sum of scores) / (C + count), rounded to 2 "
                            "decimals: C = RATING_PRIOR_WEIGHT, m the platform-wide mean of all "
                            "ratings (RATING_PRIOR_MEAN while there is none)")


class TechnicianPublic(APIModel):
    """What any signed-in caller sees of an approved technician."""

    id: str
    name: str
    skills: list[Skill]
    specialities: list[str]
    bio: str | None
    status: TechnicianStatus
    rating: RatingRead
    jobs_completed: int


class CertificationRead(APIModel):
    name: str
    issuer: str
    number: str


class LatLngRead(APIModel):
    lat: float
    lng: float


class FixRead(APIModel):
    lat: float
    lng: float
    accuracy_m: float
    recorded_at: datetime
    h3_cell: str


class CurrentFixRead(FixRead):
    accurate: bool = Field(description="accuracy of 100 m or better")
    received_at: datetime


class StatusChangeRead(APIModel):
    from_status: TechnicianStatus | None
    to_status: TechnicianStatus
    action: str
    reason: str | None = None
    by: ShownActor
    at: datetime


class TechnicianRead(TechnicianPublic):
    """The owner's and admins' view: the whole profile."""

    user_id: str
    certifications: list[CertificationRead]
    service_pincodes: list[str]
    base_location: LatLngRead
    status_history: list[StatusChangeRead]
    available: bool
    last_fix: CurrentFixRead | None
    searchable: bool = Field(description="found by nearby search now: approved, available, "
                             "latest fix accurate and fresh")
    commission_tier: str = Field(description="The technician commission tier repairs pay under")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, technician: Technician, viewer: Actor | None, rating: RatingRead,
           searchable: bool) -> "TechnicianRead":
        data = {name: getattr(technician, name) for name in cls.model_fields
                if name not in ("rating", "searchable")}
        read = cls.model_validate({**data, "rating": rating, "searchable": searchable})
        for shown, entry in zip(read.status_history, technician.status_history, strict=True):
            shown.by = shown_actor(viewer, entry.by, by_admin=entry.by != technician.user_id)
        return read


class LocationItem(APIModel):
    lat: float
    lng: float
    accuracy_m: float
    recorded_at: datetime


class Position(APIModel):
    lat: float
    lng: float


class NearbyItem(APIModel):
    technician_id: str
    name: str
    skills: list[Skill]
    distance_km: float = Field(description="geodesic (WGS-84), rounded to 0.1 km")
    rating: RatingRead
    position: Position = Field(description="customers: rounded to 3 decimals (about 100 m); "
                               "admins: exact")


class NearbyPage(APIModel):
    items: list[NearbyItem]
    next_cursor: None = None


class TechnicianCommissionTierIn(APIModel):
    tier: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")
    reason: Reason | None = None
