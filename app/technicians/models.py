"""Beanie documents of this domain, their indexes, and `DOCUMENTS` for init_beanie."""

from datetime import datetime
from enum import StrEnum
from typing import Literal

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, GEOSPHERE, IndexModel

from app.core import clock
from app.core.ids import new_id

# The H3 resolution of positions and of the nearby search (edge ≈ 0.46 km), and the coarse
# one the search switches to when the fine rings do not settle nearby (edge ≈ 3.7 km).
H3_RESOLUTION = 8
H3_COARSE_RESOLUTION = 6
# Accepted fixes are kept this long (TTL index on `recorded_at`).
HISTORY_TTL_SECONDS = 7 * 24 * 3600
PLATFORM_STATS_ID = "platform"


# The scores a rating may give; the keys of `Technician.rating_distribution`.
SCORES = ("1", "2", "3", "4", "5")


class TechnicianStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    BLOCKED = "blocked"


class Skill(StrEnum):
    HARDWARE = "hardware"
    SOFTWARE = "software"


class Certification(BaseModel):
    name: str
    issuer: str
    number: str


class LatLng(BaseModel):
    lat: float
    lng: float


class GeoPoint(BaseModel):
    """GeoJSON point (what a 2dsphere index reads): coordinates are [lng, lat]."""

    type: Literal["Point"] = "Point"
    coordinates: list[float]


class Fix(BaseModel):
    """An accepted location fix: where, how precise, when the device took it and we got it."""

    lat: float
    lng: float
    accuracy_m: float
    recorded_at: datetime
    received_at: datetime
    h3_cell: str
    accurate: bool


class FrozenRun(BaseModel):
    """Consecutive fixes with exactly these coordinates, each claiming speedMps above 1."""

    lat: float
    lng: float
    count: int


class StatusChange(BaseModel):
    from_status: TechnicianStatus | None
    to_status: TechnicianStatus
    action: str
    reason: str | None = None
    by: str
    at: datetime = Field(default_factory=clock.utcnow)


class Technician(Document):
    id: str = Field(default_factory=lambda: new_id("tch"))
    user_id: str
    name: str
    skills: list[Skill]
    specialities: list[str] = Field(default_factory=list)
    certifications: list[Certification] = Field(default_factory=list)
    service_pincodes: list[str]
    base_location: LatLng
    bio: str | None = None
    status: TechnicianStatus = TechnicianStatus.PENDING
    status_history: list[StatusChange] = Field(default_factory=list)
    available: bool = False
    # The latest accepted fix, as GeoJSON (2dsphere) and as its H3 cell (resolution 8).
    last_fix: Fix | None = None
    location: GeoPoint | None = None
    h3_cell: str | None = None
    # The search bucket (`SearchCell`) holding this technician's entry while it may be found
    # (approved, available, latest fix accurate), else null. Freshness is checked at search.
    search_cell: str | None = None
    frozen: FrozenRun | None = None
    # When a third spoofing flag made the technician unavailable: only a fix accepted after
    # it counts for going available again.
    spoofing_lockout_at: datetime | None = None
    # Kept by `reputation.record_rating` in the transaction of each rating: count, sum and
    # per-score counts ("1".."5") are `$inc`ed, the average follows; nothing scans ratings.
    rating_average: float = 0.0
    rating_count: int = 0
    rating_sum: int = 0
    rating_distribution: dict[str, int] = Field(default_factory=lambda: dict.fromkeys(SCORES, 0))
    # Set once the low-rating alert was raised for the current low spell; cleared when the
    # average recovers, so the alert is raised once per spell, never twice for one.
    low_rating_alerted: bool = False
    jobs_completed: int = 0
    # The technician commission tier (platform rules' technician tiers) repairs pay under.
    commission_tier: str = "standard"
    version: int = 1
    created_at: datetime = Field(default_factory=clock.utcnow)
    updated_at: datetime = Field(default_factory=clock.utcnow)

    class Settings:
        name = "technicians"
        indexes = [
            IndexModel([("user_id", ASCENDING)], unique=True, name="one_profile_per_account"),
            IndexModel(
                [("status", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                name="by_status",
            ),
            IndexModel([("created_at", DESCENDING), ("_id", DESCENDING)], name="newest"),
            IndexModel([("h3_cell", ASCENDING)], name="by_h3_cell"),
            IndexModel([("commission_tier", ASCENDING)], name="by_commission_tier"),
            # The version the server records (MongoDB's default, and the embedded server's):
            # declared, so a restart finds the index it would create and leaves it alone.
            IndexModel([("location", GEOSPHERE)], name="location_2dsphere",
                       **{"2dsphereIndexVersion": 3}),
        ]


class LocationRecord(Document):
    """One accepted fix, kept 7 days."""

    id: str = Field(default_factory=lambda: new_id("loc"))
    technician_id: str
    lat: float
    lng: float
    accuracy_m: float
    recorded_at: datetime
    received_at: datetime
    h3_cell: str
    accurate: bool

    class Settings:
        name = "technician_locations"
        indexes = [
            IndexModel(
                [("technician_id", ASCENDING), ("recorded_at", DESCENDING), ("_id", DESCENDING)],
                name="by_technician",
            ),
            IndexModel([("recorded_at", ASCENDING)], expireAfterSeconds=HISTORY_TTL_SECONDS,
                       name="history_ttl"),
        ]


class RefusedFix(BaseModel):
    lat: float
    lng: float
    accuracy_m: float
    recorded_at: datetime
    is_mock: bool
    speed_mps: float | None = None


class SpoofingFlag(Document):
    """A fix refused with one or more spoofing reasons (all of its reasons kept)."""

    id: str = Field(default_factory=lambda: new_id("spf"))
    technician_id: str
    reasons: list[str]
    fix: RefusedFix
    # The flag's rank among this technician's flags of the last 24 hours (3rd, 6th: unavailable).
    rank_in_day: int
    made_unavailable: bool = False
    at: datetime = Field(default_factory=clock.utcnow)

    class Settings:
        name = "technician_spoofing_flags"
        indexes = [
            IndexModel([("technician_id", ASCENDING), ("at", DESCENDING)], name="by_technician"),
        ]


class SearchEntry(BaseModel):
    """What the nearby search needs of one findable technician."""

    id: str
    name: str
    skills: list[Skill]
    lat: float
    lng: float
    at: datetime  # recorded_at of the fix: fresh or not is decided at search time
    rating_average: float = 0.0
    rating_count: int = 0
    coarse_cell: str  # the fix's cell at H3_COARSE_RESOLUTION


class SearchCell(Document):
    """The nearby search's read model: one document per H3 cell (resolution 8) holding an
    entry for each findable technician whose fix lies in it. A search reads a few of these
    by `_id` instead of one document per technician (the embedded server's cost is per
    document read). `coarse_cells` lists the coarse cells of its entries (it may keep a
    value no entry has any more: that only makes a coarse search read the bucket)."""

    id: str  # the H3 cell
    entries: list[SearchEntry] = Field(default_factory=list)
    coarse_cells: list[str] = Field(default_factory=list)

    class Settings:
        name = "technician_search_cells"
        indexes = [IndexModel([("coarse_cells", ASCENDING)], name="by_coarse_cell")]


class RatingStats(Document):
    """The platform's ratings in one document (`_id` "platform"): their count and sum, `$inc`ed
    with each rating in its transaction. Their mean is every technician's Bayesian prior."""

    id: str = PLATFORM_STATS_ID
    rating_count: int = 0
    rating_sum: int = 0

    class Settings:
        name = "technician_rating_stats"


DOCUMENTS: list[type] = [Technician, LocationRecord, SpoofingFlag, SearchCell, RatingStats]
