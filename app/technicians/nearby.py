"""Nearby search: the k nearest findable technicians within a radius, exactly, without a scan.

Technicians are indexed by the H3 cell (resolution 8) of their current fix (`search_cell`,
set only while they may be found). The search reads the query's cell and then ring after
ring of cells around it, a few rings per query, and stops as soon as the proven lower bound
of the distance to every unread ring (`geodesy.ring_lower_bound_km`, proof there) exceeds
the radius or the k-th best geodesic distance found. Candidates are ranked by exact WGS-84
geodesic distance (geopy), ties by higher Bayesian rating, then ascending id: the same set
and order an exhaustive computation gives. 2dsphere queries (`$geoNear`) would answer the
same on MongoDB but scan on the embedded server (seconds at 100,000 technicians).
"""

from typing import Any

from app.core.permissions import Actor
from app.technicians import repository
from app.technicians.geodesy import Candidate, Ranking, cell_of, ring, ring_lower_bound_km
from app.technicians.models import Skill
from app.technicians.schemas import NearbyItem, Position
from app.technicians.service import bayesian_rating, fresh_since, rating_of

# Rings read by the first query (the query's cell and its neighbours); later batches double
# while fewer than `limit` candidates are known, else grow one ring at a time.
FIRST_BATCH = 2
MAX_BATCH = 16
# Customers see positions to 3 decimals (about 100 m), never the exact fix.
PUBLIC_DECIMALS = 3
DISTANCE_DECIMALS = 1


class _Rings:
    """The rings around the query's cell and their lower bounds, each computed once."""

    def __init__(self, lat: float, lng: float, ranking: Ranking) -> None:
        self.origin = cell_of(lat, lng)
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


def _candidate(doc: dict[str, Any]) -> Candidate:
    fix = doc["last_fix"]
    return Candidate(id=doc["_id"], lat=fix["lat"], lng=fix["lng"],
                     bayesian=bayesian_rating(doc.get("rating_average", 0.0),
                                              doc.get("rating_count", 0)), doc=doc)


async def find_nearest(lat: float, lng: float, radius_km: float, skill: Skill | None,
                       limit: int) -> list[Candidate]:
    """The `limit` nearest findable technicians within `radius_km`, ranked (system scope)."""
    ranking = Ranking(lat, lng, radius_km, limit)
    rings = _Rings(lat, lng, ranking)
    since = fresh_since()
    next_ring, batch = 0, FIRST_BATCH
    while True:
        cells: list[str] = []
        beyond_radius = False
        for k in range(next_ring, next_ring + batch):
            if rings.bound_from(k) > radius_km:
                beyond_radius = True
                break
            cells.extend(rings.of(k))
            next_ring = k + 1
        if cells:
            for doc in await repository.searchable_in_cells(cells, since, skill):
                ranking.add(_candidate(doc))
        if beyond_radius or ranking.settled_by(rings.bound_from(next_ring)):
            return ranking.nearest()
        batch = 1 if len(ranking.candidates) >= limit else min(batch * 2, MAX_BATCH)


def _position(candidate: Candidate, exact: bool) -> Position:
    if exact:
        return Position(lat=candidate.lat, lng=candidate.lng)
    return Position(lat=round(candidate.lat, PUBLIC_DECIMALS),
                    lng=round(candidate.lng, PUBLIC_DECIMALS))


async def nearby(actor: Actor, lat: float, lng: float, radius_km: float, skill: Skill | None,
                 limit: int) -> list[NearbyItem]:
    """Customers see positions rounded to about 100 m; admins see them exact."""
    found = await find_nearest(lat, lng, radius_km, skill, limit)
    return [
        NearbyItem(
            technician_id=c.id, name=c.doc.get("name", ""), skills=c.doc.get("skills", []),
            distance_km=round(c.exact_km or 0.0, DISTANCE_DECIMALS),
            rating=rating_of(c.doc.get("rating_average", 0.0), c.doc.get("rating_count", 0)),
            position=_position(c, exact=actor.is_admin),
        )
        for c in found
    ]
