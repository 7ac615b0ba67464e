"""Nearby search: the k nearest findable technicians within a radius, exactly, without a scan.

Findable technicians (approved, available, latest fix accurate) have an entry in the search
cell (`SearchCell`, one document per H3 cell of resolution 8) of their fix. The search reads
the query's cell and then ring after ring of cells around it (`h3.grid_ring`), one ring per
query after the first two, and stops as soon as the proven lower bound of the distance to
every unread ring (`geodesy.ring_lower_bound_km`, proof there) exceeds the radius or the
k-th best geodesic distance found. When the fine rings have not settled it within
`FINE_RINGS` rings, or sooner in an empty area, it goes on with the same exact ring search
over coarse cells (resolution 6, `coarse_cells`), so a 50 km search reads tens of cells,
not thousands.
Candidates are ranked by exact WGS-84 geodesic distance (geopy), ties by higher Bayesian
rating, then ascending id: the same set and order an exhaustive computation gives. Entries
whose fix is older than LOCATION_FRESH_SECONDS are skipped as they are read.
2dsphere queries (`$geoNear`) would answer the same on MongoDB but scan on the embedded
server (seconds at 100,000 technicians).
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from app.core.permissions import Actor
from app.technicians import repository
from app.technicians.geodesy import Candidate, Ranking, cell_of, ring, ring_lower_bound_km
from app.technicians.models import H3_COARSE_RESOLUTION, H3_RESOLUTION, Skill
from app.technicians.schemas import NearbyItem, Position
from app.technicians.service import bayesian_rating, fresh_since, platform_mean, rating_of

# The first read covers rings 0-1 (7 cells), each later one the next ring: measured at
# 10,000 technicians around one city, wider reads cost the embedded server more CPU per
# search than the round trips they save (each document read is checked against the whole
# `$in` list).
FIRST_RINGS = 2
MAX_BATCH_RINGS = 1
# The fine search goes coarse past ring 4 where it found under one technician in fifty
# cells (an empty area: coarse cells read far fewer documents), and past ring 12 anyway.
SPARSE_AFTER_RING = 4
SPARSE_ENTRIES_PER_CELL = 0.02
FINE_RINGS = 12
# Customers see positions to 3 decimals (about 100 m), never the exact fix.
PUBLIC_DECIMALS = 3
DISTANCE_DECIMALS = 1
Fetch = Callable[[list[str]], Awaitable[list[dict[str, Any]]]]


class _Rings:
    """The rings around the query's cell at one resolution, and their lower bounds."""

    def __init__(self, ranking: Ranking, resolution: int) -> None:
        self.origin = cell_of(ranking.lat, ranking.lng, resolution)
        self.ranking = ranking
        self.cells: dict[int, list[str]] = {}
        self.bound = 0.0  # running maximum: L(j) bounds every ring from j on

    def of(self, k: int) -> list[str]:
        if k not in self.cells:
            self.cells[k] = ring(self.origin, k)
        return self.cells[k]

    def bound_from(self, k: int) -> float:
        """A proven lower bound (km) of the distance to every point of ring k and beyond."""
        if k > 0:
            self.bound = max(self.bound, ring_lower_bound_km(self.ranking.query, self.of(k)))
        return self.bound


class _Search:
    def __init__(self, lat: float, lng: float, radius_km: float, skill: Skill | None,
                 limit: int, mean: float, now: datetime | None = None) -> None:
        self.ranking = Ranking(lat, lng, radius_km, limit)
        self.mean = mean  # the platform-wide mean every Bayesian rating is taken over
        self.skill = skill.value if skill else None
        self.since = fresh_since(now)
        self.seen: set[str] = set()

    def take(self, entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            if (entry["id"] in self.seen or entry["at"] < self.since
                    or (self.skill and self.skill not in entry["skills"])):
                continue
            self.seen.add(entry["id"])
            self.ranking.add(Candidate(
                id=entry["id"], lat=entry["lat"], lng=entry["lng"], doc=entry,
                bayesian=bayesian_rating(entry["rating_average"], entry["rating_count"],
                                         self.mean),
            ))

    async def rings(self, resolution: int, fetch: Fetch, max_ring: int | None) -> bool:
        """Read rings of `resolution` until settled (True), or give up (False) past
        `max_ring` or, when `max_ring` is set, once the area proves sparse."""
        rings = _Rings(self.ranking, resolution)
        radius = self.ranking.radius_km
        next_ring, batch = 0, FIRST_RINGS
        cells_read = entries_read = 0
        while True:
            cells: list[str] = []
            for k in range(next_ring, next_ring + batch):
                if rings.bound_from(k) > radius or (max_ring is not None and k > max_ring):
                    break
                cells.extend(rings.of(k))
                next_ring = k + 1
            if cells:
                entries = await fetch(cells)
                cells_read, entries_read = cells_read + len(cells), entries_read + len(entries)
                self.take(entries)
            if self.ranking.settled_by(rings.bound_from(next_ring)):
                return True
            if max_ring is not None and (next_ring > max_ring or (
                    next_ring > SPARSE_AFTER_RING
                    and entries_read < SPARSE_ENTRIES_PER_CELL * cells_read)):
                return False
            enough = len(self.ranking.candidates) >= self.ranking.limit
            batch = 1 if enough else min(batch * 2, MAX_BATCH_RINGS)


async def find_nearest(lat: float, lng: float, radius_km: float, skill: Skill | None,
                       limit: int, mean: float | None = None) -> list[Candidate]:
    """The `limit` nearest findable technicians within `radius_km`, ranked (system scope);
    each candidate's `bayesian` is taken over `mean` (read from the platform's rating stats
    when not given)."""
    mean = await platform_mean() if mean is None else mean
    search = _Search(lat, lng, radius_km, skill, limit, mean)
    if not await search.rings(H3_RESOLUTION, repository.search_entries, FINE_RINGS):
        await search.rings(H3_COARSE_RESOLUTION, repository.search_entries_coarse, None)
    return search.ranking.nearest()


def _position(candidate: Candidate, exact: bool) -> Position:
    if exact:
        return Position(lat=candidate.lat, lng=candidate.lng)
    return Position(lat=round(candidate.lat, PUBLIC_DECIMALS),
                    lng=round(candidate.lng, PUBLIC_DECIMALS))


async def nearby(actor: Actor, lat: float, lng: float, radius_km: float, skill: Skill | None,
                 limit: int) -> list[NearbyItem]:
    """Customers see positions rounded to about 100 m; admins see them exact."""
    mean = await platform_mean()
    found = await find_nearest(lat, lng, radius_km, skill, limit, mean)
    return [
        NearbyItem(
            technician_id=c.id, name=c.doc["name"], skills=c.doc["skills"],
            distance_km=round(c.exact_km or 0.0, DISTANCE_DECIMALS),
            rating=rating_of(c.doc["rating_average"], c.doc["rating_count"], mean),
            position=_position(c, exact=actor.is_admin),
        )
        for c in found
    ]
