"""The nearby search against a brute-force geodesic computation (geopy) over every technician:
the same ids in the same order, around several cities, at the radius edge, across the
antimeridian and next to the pole."""

import math
import random
from datetime import timedelta
from typing import Any

from geopy.distance import geodesic

from app.core import clock
from app.technicians.models import Skill, TechnicianStatus
from app.technicians.service import bayesian_rating
from tests.technicians.factories import nearby, seed, seeded_technician

FRESH = timedelta(seconds=600)
CITIES = {"bangalore": (12.9716, 77.5946), "delhi": (28.6139, 77.2090),
          "mumbai": (19.0760, 72.8777)}
ANTIMERIDIAN = (-17.7, 180.0)
POLE = (89.9, 0.0)


def _jitter(rng: random.Random, lat: float, lng: float, km: float) -> tuple[float, float]:
    """A point about `km` (Gaussian) from (lat, lng), longitudes wrapped to [-180, 180)."""
    dlat = rng.gauss(0, km) / 111.0
    dlng = rng.gauss(0, km) / (111.0 * max(math.cos(math.radians(lat)), 0.05))
    new_lat = max(-89.999, min(89.999, lat + dlat))
    new_lng = (lng + dlng + 180.0) % 360.0 - 180.0
    return new_lat, new_lng


def _population(rng: random.Random) -> list[Any]:
    now = clock.utcnow()
    technicians = []
    centres = [(c, 600, 6.0) for c in CITIES.values()] + [(ANTIMERIDIAN, 350, 8.0),
                                                          (POLE, 350, 10.0)]
    for (lat, lng), count, spread in centres:
        for _ in range(count):
            p_lat, p_lng = _jitter(rng, lat, lng, spread)
            roll = rng.random()
            technicians.append(seeded_technician(
                p_lat, p_lng, now=now,
                skills=rng.choice([(Skill.HARDWARE,), (Skill.SOFTWARE,),
                                   (Skill.HARDWARE, Skill.SOFTWARE)]),
                available=roll > 0.1, accurate=rng.random() > 0.1,
                # Fresh or stale by minutes, never near the edge while the test runs.
                age=timedelta(seconds=rng.choice([rng.uniform(0, 300), rng.uniform(900, 1200)])),
                status=TechnicianStatus.SUSPENDED if rng.random() < 0.05
                else TechnicianStatus.APPROVED,
                rating=(round(rng.uniform(3, 5), 1), rng.randint(0, 40)),
            ))
        # Ties: technicians at exactly the same spot, some with the same rating as well.
        for copies, rating in ((3, (4.5, 10)), (2, (4.5, 10)), (2, (3.0, 2))):
            for _ in range(copies):
                technicians.append(seeded_technician(lat + 0.001, lng if lng < 180 else -179.999,
                                                     now=now, rating=rating))
    return technicians


def _brute_force(docs: list[dict[str, Any]], lat: float, lng: float, radius: float, limit: int,
                 skill: str | None) -> list[tuple[str, float]]:
    now = clock.utcnow()
    ranked = []
    for doc in docs:
        fix = doc.get("last_fix")
        if (doc["status"] != "approved" or not doc["available"] or fix is None
                or not fix["accurate"] or fix["recorded_at"] < now - FRESH
                or (skill and skill not in doc["skills"])):
            continue
        km = geodesic((lat, lng), (fix["lat"], fix["lng"])).km
        if km <= radius:
            bayes = bayesian_rating(doc["rating_average"], doc["rating_count"])
            ranked.append((km, -bayes, doc["_id"]))
    ranked.sort()
    return [(tech_id, km) for km, _, tech_id in ranked[:limit]]


def _queries(rng: random.Random) -> list[dict[str, Any]]:
    queries = []
    for lat, lng in CITIES.values():
        for _ in range(6):
            q_lat, q_lng = _jitter(rng, lat, lng, 8.0)
            queries.append({"lat": q_lat, "lng": q_lng,
                            "radiusKm": rng.choice([0.5, 2, 5, 15, 50]),
                            "limit": rng.choice([1, 5, 20, 50]),
                            "skill": rng.choice([None, None, "hardware", "software"])})
    for lng in (179.99, -179.99, 179.7):
        queries.append({"lat": ANTIMERIDIAN[0], "lng": lng, "radiusKm": 30, "limit": 50})
    for lng in (0.0, 135.0, -90.0):
        queries.append({"lat": 89.95, "lng": lng, "radiusKm": 40, "limit": 50})
    # A sparse place: nobody within 50 km (the search must stop at the radius).
    queries.append({"lat": 0.0, "lng": 0.0, "radiusKm": 50, "limit": 20})
    return queries


async def _compare(api, admin, docs, query):
    params = {k: v for k, v in query.items() if v is not None}
    response = await nearby(api, admin, **params)
    assert response.status_code == 200, (query, response.text)
    body = response.json()
    assert body["success"] is True and body["data"]["nextCursor"] is None
    got = body["data"]["items"]
    expected = _brute_force(docs, query["lat"], query["lng"], query["radiusKm"], query["limit"],
                            query.get("skill"))
    assert [item["technicianId"] for item in got] == [tech_id for tech_id, _ in expected], query
    for item, (_, km) in zip(got, expected, strict=True):
        assert item["distanceKm"] == round(km, 1)
    return got, expected


async def test_nearby_matches_brute_force_everywhere(api, mongo_db):
    rng = random.Random(20261211)
    await seed(_population(rng))
    docs = await mongo_db.technicians.find({}).to_list()
    assert len(docs) == 3 * 600 + 350 + 350 + 5 * 7
    admin = await api.root_admin()
    nonempty = 0
    for query in _queries(rng):
        got, _ = await _compare(api, admin, docs, query)
        nonempty += bool(got)
    assert nonempty >= 15  # the comparison is not vacuous

    # Ties: the technicians at one spot come out by higher Bayesian rating, then id.
    lat, lng = CITIES["delhi"]
    got, _ = await _compare(api, admin, docs, {"lat": lat + 0.001, "lng": lng, "radiusKm": 0.5,
                                               "limit": 50})
    spot = [item for item in got if item["distanceKm"] == 0.0]
    assert len(spot) >= 7
    keys = [(-item["rating"]["bayesian"], item["technicianId"]) for item in spot]
    assert keys == sorted(keys)


async def test_radius_edge_is_inclusive(api, mongo_db):
    rng = random.Random(7)
    lat, lng = CITIES["bangalore"]
    await seed([seeded_technician(*_jitter(rng, lat, lng, 3.0))
                                  for _ in range(300)])
    docs = await mongo_db.technicians.find({}).to_list()
    admin = await api.root_admin()
    q_lat, q_lng = lat + 0.01, lng - 0.01
    everyone = _brute_force(docs, q_lat, q_lng, 50, 50, None)
    for tech_id, km in everyone[3:40:9]:
        got, _ = await _compare(api, admin, docs, {"lat": q_lat, "lng": q_lng, "radiusKm": km,
                                                   "limit": 50})
        assert got[-1]["technicianId"] == tech_id  # exactly at the edge: included
        below = math.nextafter(km, 0.0)
        got, _ = await _compare(api, admin, docs, {"lat": q_lat, "lng": q_lng,
                                                   "radiusKm": below, "limit": 50})
        assert tech_id not in {item["technicianId"] for item in got}
