"""Distances and H3 ring bounds for the exact nearby search (pure computation, no I/O).

Distances are geodesic on the WGS-84 ellipsoid (`geopy.distance.geodesic`). The search looks
at H3 cells ring after ring around the query's cell and stops once a *proven* lower bound of
the distance to every cell not yet read exceeds the k-th best distance found. The bound:

Let q be the query point, in cell O, and ring(j) the cells at grid distance j from O
(`h3.grid_ring`), disk(j) = ring(0) ∪ … ∪ ring(j). Claim: every point p of a cell in ring(k)
or beyond (k ≥ 1) has geodesic(q, p) ≥ L(k), where

    L(k) = M_MIN_KM · min over cells B in ring(k) of (σ(q, centre(B)) − r(B)) − 1 m,

σ is the central angle on the unit sphere, r(B) the largest angle from B's centre to one of
its vertices (times 1 + 1e-9), and M_MIN_KM = a(1 − e²) = 6335.439 km.
Proof.
1. H3 cells of one resolution tile the sphere. R = disk(k−1) is a region containing q; p is
   not inside it. Any curve from q to p, the geodesic among them, leaves R through its
   boundary at some point x. x lies on an edge between a cell A in disk(k−1) and a cell B
   outside it; B is A's neighbour, so its grid distance is at most k and, being outside
   disk(k−1), exactly k: x belongs to a cell B of ring(k).
2. Every point of B is within r(B) of B's centre: B's vertices lie in the spherical cap of
   angular radius r(B) (< 90°) about its centre, its edges are minor great-circle arcs
   between them (straight lines of H3's gnomonic projection) and so lie in the cap too,
   and the region a closed curve inside a cap encloses lies in the cap. By the triangle
   inequality σ(q, x) ≥ σ(q, centre(B)) − r(B).
3. On the ellipsoid, the line element is ds² = M(φ)²dφ² + N(φ)²cos²φ dλ² with
   M(φ) ≥ a(1 − e²) and N(φ) ≥ a ≥ a(1 − e²); on the unit sphere dσ² = dφ² + cos²φ dλ² in
   the same coordinates (H3 reads latitude and longitude as spherical coordinates). So
   every curve is at least a(1 − e²) times as long on the ellipsoid as its image on the
   unit sphere: geodesic(q, p) ≥ geodesic(q, x) ≥ M_MIN_KM · σ(q, x).
Together: geodesic(q, p) ≥ L(k) + 1 m. The metre covers floating-point error and points
that H3's float arithmetic puts in a neighbouring cell (nanometres). Since L(k) bounds all
rings ≥ k, the running maximum of L over the rings read is a bound too. ∎
Nothing depends on the resolution: the coarse search (resolution 6) uses the same bound
over cells that hold each technician by its own coarse cell, not by its fine cell's parent.

Step 3 also gives each candidate read a cheap lower bound, M_MIN_KM · σ(q, p), within
1 % of its distance: candidates are ranked in order of it, and the exact (slow) geodesic is
computed only until the bound of the next one exceeds the k-th exact distance.
"""

import bisect
import math
from dataclasses import dataclass, field
from functools import lru_cache

import h3
from geographiclib.geodesic import Geodesic
from geopy.distance import ELLIPSOIDS

from app.technicians.models import H3_COARSE_RESOLUTION, H3_RESOLUTION

WGS84_A_KM = 6378.137
WGS84_E2 = 0.00669437999014
M_MIN_KM = WGS84_A_KM * (1 - WGS84_E2)  # 6335.439 km: smallest radius of curvature
BOUND_MARGIN_KM = 0.001
Vector = tuple[float, float, float]


def unit_vector(lat: float, lng: float) -> Vector:
    phi, lam = math.radians(lat), math.radians(lng)
    cos_phi = math.cos(phi)
    return (cos_phi * math.cos(lam), cos_phi * math.sin(lam), math.sin(phi))


def central_angle(u: Vector, v: Vector) -> float:
    """Angle between two unit vectors, accurate at every size (atan2 of |u×v| and u·v)."""
    cx = u[1] * v[2] - u[2] * v[1]
    cy = u[2] * v[0] - u[0] * v[2]
    cz = u[0] * v[1] - u[1] * v[0]
    return math.atan2(math.sqrt(cx * cx + cy * cy + cz * cz),
                      u[0] * v[0] + u[1] * v[1] + u[2] * v[2])


# What `geopy.distance.geodesic(a, b).km` computes, without its per-call objects: geopy
# builds this Geodesic from its WGS-84 entry (in km) and asks it for the distance alone,
# after leaving in-range coordinates as they are. Same floats, about half the time.
_MAJOR_KM, _, _FLATTENING = ELLIPSOIDS["WGS-84"]
_GEOD = Geodesic(_MAJOR_KM, _FLATTENING)


def geodesic_km(a_lat: float, a_lng: float, b_lat: float, b_lng: float) -> float:
    """Geodesic distance on WGS-84, exactly as geopy's `geodesic(a, b).km`."""
    return float(_GEOD.Inverse(a_lat, a_lng, b_lat, b_lng, Geodesic.DISTANCE)["s12"])


def cell_of(lat: float, lng: float, resolution: int = H3_RESOLUTION) -> str:
    return str(h3.latlng_to_cell(lat, lng, resolution))


def coarse_cell_of(lat: float, lng: float) -> str:
    return cell_of(lat, lng, H3_COARSE_RESOLUTION)


@lru_cache(maxsize=65_536)
def cell_cap(cell: str) -> tuple[Vector, float]:
    """A cell's centre and the angular radius of a cap about it that holds the whole cell."""
    centre = unit_vector(*h3.cell_to_latlng(cell))
    radius = max(central_angle(centre, unit_vector(lat, lng))
                 for lat, lng in h3.cell_to_boundary(cell))
    return centre, radius * (1 + 1e-9)


def ring(origin: str, k: int) -> list[str]:
    return list(h3.grid_ring(origin, k))


def ring_lower_bound_km(query: Vector, cells: list[str]) -> float:
    """L(k) for the cells of ring(k): no point of ring(k) or beyond is nearer (see above)."""
    nearest = math.inf
    for cell in cells:
        centre, radius = cell_cap(cell)
        nearest = min(nearest, central_angle(query, centre) - radius)
    return max(0.0, M_MIN_KM * nearest - BOUND_MARGIN_KM)


@dataclass
class Candidate:
    """A technician read from the database, with its distance bracket from the query."""

    id: str
    lat: float
    lng: float
    bayesian: float
    doc: dict = field(repr=False)
    low_km: float = 0.0
    exact_km: float | None = None

    def rank_key(self) -> tuple[float, float, str]:
        """Nearest first; ties by higher Bayesian rating, then ascending id."""
        assert self.exact_km is not None
        return (self.exact_km, -self.bayesian, self.id)


class Ranking:
    """The candidates read so far and the k nearest among them within the radius."""

    def __init__(self, lat: float, lng: float, radius_km: float, limit: int) -> None:
        self.lat, self.lng = lat, lng
        self.query = unit_vector(lat, lng)
        self.radius_km = radius_km
        self.limit = limit
        self.candidates: list[Candidate] = []

    def add(self, candidate: Candidate) -> None:
        sigma = central_angle(self.query, unit_vector(candidate.lat, candidate.lng))
        candidate.low_km = M_MIN_KM * sigma * (1 - 1e-12)
        if candidate.low_km <= self.radius_km:
            self.candidates.append(candidate)

    def nearest(self) -> list[Candidate]:
        """The k nearest within the radius, ranked; exact geodesics only where they decide.

        Candidates are taken in order of their lower bound; once `limit` are ranked, one
        whose lower bound exceeds the k-th exact distance cannot enter (nor tie)."""
        self.candidates.sort(key=lambda c: c.low_km)
        best: list[Candidate] = []
        for candidate in self.candidates:
            if len(best) == self.limit and candidate.low_km > best[-1].exact_km:  # type: ignore
                break
            if candidate.exact_km is None:
                candidate.exact_km = geodesic_km(self.lat, self.lng, candidate.lat, candidate.lng)
            if candidate.exact_km <= self.radius_km:
                bisect.insort(best, candidate, key=Candidate.rank_key)
                del best[self.limit:]
        return best

    def settled_by(self, bound_km: float) -> bool:
        """True once no unread technician can enter the answer: the bound on everything
        unread exceeds the radius, or the k-th best distance (a tie needs equality)."""
        if bound_km > self.radius_km:
            return True
        best = self.nearest()
        return len(best) == self.limit and bound_km > best[-1].exact_km  # type: ignore[operator]
