"""Nearby search at 100,000 technicians: the API over HTTP beside `$geoNear` and a Python scan.

    .venv/bin/python bench/nearby.py                 (100,000 technicians, 10 Indian cities)
    .venv/bin/python bench/nearby.py --technicians 20000 --requests 200

Starts SecantusDB and the API as two processes (bench/procs.py, as `make run` does), signs
up one technician through the API (profile, approval, a fix, available) as the reference
shape, then seeds the rest straight into the database through the app's repository (the
same documents and search-cell entries the API writes). It then measures
`GET /api/technicians/nearby` as a customer at concurrency 1 and 8 (p50/p99 over every
request), the same queries answered by `$geoNear` (the 2dsphere index) and by a Python scan
of every findable technician (geopy), and checks that the API's answers are the exhaustive
ones. Prints one table; see bench/README.md ("Nearby").
"""

import argparse
import asyncio
import math
import os
import random
import re
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the repository, not bench/

from app.core import clock  # noqa: E402
from app.core.database import Database  # noqa: E402
from app.technicians.geodesy import M_MIN_KM, central_angle, geodesic_km, unit_vector  # noqa: E402
from app.technicians.models import DOCUMENTS, Skill  # noqa: E402
from app.technicians.service import bayesian_rating  # noqa: E402
from bench.load import send  # noqa: E402
from bench.procs import ADMIN_EMAIL, ADMIN_PASSWORD, DB_NAME, Server, machine  # noqa: E402
from bench.seed import login, signup  # noqa: E402
from tests.technicians.factories import (  # noqa: E402
    fix_body,
    seed,
    seeded_technician,
    technician_profile,
)

CITIES = {
    "Mumbai": (19.0760, 72.8777), "Delhi": (28.6139, 77.2090), "Bengaluru": (12.9716, 77.5946),
    "Hyderabad": (17.3850, 78.4867), "Chennai": (13.0827, 80.2707),
    "Kolkata": (22.5726, 88.3639), "Pune": (18.5204, 73.8567), "Ahmedabad": (23.0225, 72.5714),
    "Jaipur": (26.9124, 75.7873), "Lucknow": (26.8467, 80.9462),
}
SPREAD_KM = 8.0  # technicians: Gaussian around the city centre, per axis
QUERY_SPREAD_KM = 10.0
FINDABLE_SHARE = 0.85  # the rest are off duty, inaccurate or stale
# Seeding 100,000 technicians takes minutes: the API reads fixes as fresh for an hour, so
# none ages out while the bench runs (the search still filters on freshness).
FRESH_SECONDS = 3600


def _point(rng: random.Random, lat: float, lng: float, km: float) -> tuple[float, float]:
    return (lat + rng.gauss(0, km) / 111.0,
            lng + rng.gauss(0, km) / (111.0 * math.cos(math.radians(lat))))


def _technician(rng: random.Random, city: tuple[float, float]) -> Any:
    """85 % findable (approved, available, accurate, fresh); the rest off duty, with an
    inaccurate fix, or with a stale one, in equal shares."""
    roll = rng.random()
    return seeded_technician(
        *_point(rng, *city, SPREAD_KM),
        skills=rng.choice([(Skill.HARDWARE,), (Skill.HARDWARE,), (Skill.SOFTWARE,),
                           (Skill.HARDWARE, Skill.SOFTWARE)]),
        available=not FINDABLE_SHARE <= roll < 0.90,
        accurate=not 0.90 <= roll < 0.95,
        age=timedelta(seconds=2 * FRESH_SECONDS if roll >= 0.95 else rng.uniform(0, 300)),
        rating=(round(rng.uniform(3.0, 5.0), 1), rng.randint(0, 200)),
    )


def queries(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """Customers around the cities: default radius and limit mostly, some filtered by skill,
    some wider or longer."""
    out = []
    for _ in range(count):
        lat, lng = _point(rng, *rng.choice(list(CITIES.values())), QUERY_SPREAD_KM)
        query: dict[str, Any] = {"lat": round(lat, 6), "lng": round(lng, 6)}
        roll = rng.random()
        if roll < 0.15:
            query["skill"] = "software"
        elif roll < 0.25:
            query.update(radiusKm=10, limit=50)
        out.append(query)
    return out


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] * 1000


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.server = Server()
        self.rng = random.Random(args.seed)
        self.rows: list[tuple[str, str, str, str, str]] = []
        self.notes: list[str] = []
        self.c1_p50_ms = 0.0

    def log(self, text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)

    async def run(self) -> None:
        os.environ["LOCATION_FRESH_SECONDS"] = str(FRESH_SECONDS)
        self.server.start()
        try:
            await self.server.wait_ready()
            async with aiohttp.ClientSession() as http:
                self.http = http
                await self.measure_all()
        finally:
            self.server.stop()

    async def measure_all(self) -> None:
        base = self.server.base_url
        admin = await login(self.http, base, ADMIN_EMAIL, ADMIN_PASSWORD)
        reference = await self.http_technician(base, admin)
        # A $geoNear keeps the embedded server busy for seconds, during which it does not
        # answer heartbeats; with the default 2 s timeout the client would drop its pool.
        url = re.sub(r"connectTimeoutMS=\d+", "connectTimeoutMS=300000", self.server.db_url)
        database = Database(url, DB_NAME)
        await database.init_documents(DOCUMENTS)
        try:
            self.db = database.db
            await self.seed_technicians()
            await self.same_shape(reference)
            customer = await signup(self.http, base, "customer", 1)
            work = queries(self.rng, self.args.requests)
            answers = await self.over_http(customer, work)
            await self.compare(work, answers)
        finally:
            await database.close()
        self.report()

    async def http_technician(self, base: str, admin: Any) -> str:
        """One technician the way a user makes one: signup, profile, approval, fix, available."""
        account = await signup(self.http, base, "technician", 1)
        created = await send(self.http, "POST", f"{base}/api/technicians", ok=(201,),
                             json=technician_profile(), headers=account.headers)
        tech_id = created.data["data"]["id"]
        steps = [("PATCH", f"/api/technicians/{tech_id}/status", {"action": "approve"},
                  admin.headers, (200,)),
                 ("POST", f"/api/technicians/{tech_id}/location",
                  fix_body(*CITIES["Bengaluru"]), account.headers, (201,)),
                 ("PATCH", f"/api/technicians/{tech_id}/availability", {"available": True},
                  account.headers, (200,))]
        for method, path, body, headers, ok in steps:
            outcome = await send(self.http, method, f"{base}{path}", ok=ok, json=body,
                                 headers=headers)
            if not outcome.ok:
                raise RuntimeError(f"{method} {path}: {outcome.label} {outcome.body}")
        return str(tech_id)

    async def seed_technicians(self) -> None:
        count = self.args.technicians
        self.log(f"seeding {count:,} technicians around {len(CITIES)} cities ...")
        started = time.perf_counter()
        # One city at a time: each city's search cells are written once.
        for n, city in enumerate(CITIES.values()):
            share = count // len(CITIES) + (n < count % len(CITIES))
            await seed([_technician(self.rng, city) for _ in range(share)])
        seconds = time.perf_counter() - started
        self.notes.append(f"seeded {count:,} technicians straight into the database in "
                          f"{seconds:.0f} s ({count / seconds:,.0f}/s, 2dsphere index included)")
        self.log(self.notes[-1])

    async def same_shape(self, api_made: str) -> None:
        """The bulk documents have exactly the fields of the API-made ones."""
        api_doc = await self.db.technicians.find_one({"_id": api_made})
        bulk_doc = await self.db.technicians.find_one({"_id": {"$ne": api_made},
                                                       "search_cell": {"$ne": None}})
        assert api_doc is not None and bulk_doc is not None
        if set(api_doc) != set(bulk_doc):
            raise RuntimeError(f"bulk technician shape differs: {set(api_doc) ^ set(bulk_doc)}")
        api_cell = await self.db.technician_search_cells.find_one({"_id": api_doc["search_cell"]})
        bulk_cell = await self.db.technician_search_cells.find_one(
            {"_id": bulk_doc["search_cell"]})
        api_entry = next(e for e in api_cell["entries"] if e["id"] == api_made)
        if set(api_entry) != set(bulk_cell["entries"][0]):
            raise RuntimeError("bulk search entries differ from the API's")

    async def over_http(self, customer: Any, work: list[dict[str, Any]]) -> list[list[str]]:
        url = f"{self.server.base_url}/api/technicians/nearby"
        answers: list[list[str]] = [[] for _ in work]

        async def one(index: int, latencies: list[float]) -> None:
            started = time.perf_counter()
            async with self.http.get(url, params=work[index], headers=customer.headers) as reply:
                body = await reply.json()
            latencies.append(time.perf_counter() - started)
            if reply.status != 200:
                raise RuntimeError(f"nearby answered {reply.status}: {body}")
            answers[index] = [item["technicianId"] for item in body["data"]["items"]]

        for clients in (1, 8):
            await self.server.quiesce()
            latencies: list[float] = []
            for index in range(min(20, len(work))):  # warm-up: connections, caches
                await one(index, [])
            started = time.perf_counter()
            cursor = iter(range(len(work)))

            async def worker(latencies: list[float] = latencies,
                             cursor: Any = cursor) -> None:
                for index in cursor:
                    await one(index, latencies)

            await asyncio.gather(*(worker() for _ in range(clients)))
            elapsed = time.perf_counter() - started
            if clients == 1:
                self.c1_p50_ms = percentile(latencies, 0.5)
            self.rows.append((f"API over HTTP, {clients} client{'s' * (clients > 1)}",
                              str(len(latencies)), f"{percentile(latencies, 0.5):.1f}",
                              f"{percentile(latencies, 0.99):.1f}",
                              f"{len(latencies) / elapsed:.0f}"))
            self.log(" | ".join(self.rows[-1]))
        return answers

    def _filter(self, query: dict[str, Any]) -> dict[str, Any]:
        since = clock.utcnow() - timedelta(seconds=FRESH_SECONDS)
        found: dict[str, Any] = {"status": "approved", "available": True,
                                 "last_fix.accurate": True, "last_fix.recorded_at": {"$gte": since}}
        if query.get("skill"):
            found["skills"] = query["skill"]
        return found

    async def compare(self, work: list[dict[str, Any]], answers: list[list[str]]) -> None:
        sample = list(range(self.args.slow_queries))
        await self.server.quiesce()
        geo_times, overlaps = [], []
        for index in sample:
            query = work[index]
            pipeline = [{"$geoNear": {
                "near": {"type": "Point", "coordinates": [query["lng"], query["lat"]]},
                "distanceField": "distance", "spherical": True,
                "maxDistance": query.get("radiusKm", 5) * 1000, "query": self._filter(query)}},
                {"$limit": query.get("limit", 20)}, {"$project": {"_id": 1}}]
            started = time.perf_counter()
            docs = await (await self.db.technicians.aggregate(pipeline)).to_list()
            geo_times.append(time.perf_counter() - started)
            ids = [doc["_id"] for doc in docs]
            overlaps.append(len(set(ids) & set(answers[index])) / max(1, len(answers[index])))
        self.rows.append(("$geoNear (2dsphere), 1 client", str(len(sample)),
                          f"{percentile(geo_times, 0.5):.0f}", f"{max(geo_times) * 1000:.0f}",
                          f"{len(sample) / sum(geo_times):.2f}"))
        self.log(" | ".join(self.rows[-1]))
        self.notes.append(f"$geoNear (spherical distance) returned the same technicians as the "
                          f"API for {sum(overlaps) / len(overlaps):.1%} of them on average "
                          "(it ranks on a sphere, not the ellipsoid)")

        started = time.perf_counter()
        everyone = await self.db.technicians.find(
            {"search_cell": {"$ne": None}},
            {"last_fix": 1, "skills": 1, "rating_average": 1, "rating_count": 1}).to_list()
        load = time.perf_counter() - started
        scan_times = []
        for index in sample:
            started = time.perf_counter()
            answer = self.scan(everyone, work[index], exact_everywhere=True)
            scan_times.append(time.perf_counter() - started)
            if answer != answers[index]:
                raise RuntimeError(f"the API's answer differs from the scan: {work[index]}")
        self.rows.append(("Python scan (geopy, every technician)", str(len(sample)),
                          f"{percentile(scan_times, 0.5):.0f}", f"{max(scan_times) * 1000:.0f}",
                          f"{len(sample) / sum(scan_times):.2f}"))
        self.log(" | ".join(self.rows[-1]))
        self.notes.append(f"the scan's {len(everyone):,} findable technicians were read once "
                          f"beforehand ({load:.1f} s), not per query")
        checked = 0
        for index, query in enumerate(work):
            if self.scan(everyone, query, exact_everywhere=False) != answers[index]:
                raise RuntimeError(f"the API's answer is not the exhaustive one: {query}")
            checked += 1
        self.notes.append(f"all {checked} HTTP answers equal the exhaustive computation "
                          "(same ids, same order)")
        ratio = percentile(geo_times, 0.5) / self.c1_p50_ms
        self.notes.append(f"API p50 at 1 client is {ratio:,.0f}x faster than $geoNear's")

    def scan(self, everyone: list[dict[str, Any]], query: dict[str, Any],
             exact_everywhere: bool) -> list[str]:
        """The k nearest by exhaustive computation: geopy for every findable technician, or
        (`exact_everywhere=False`) only where a proven spherical lower bound is within the
        radius (the same ranking, far cheaper)."""
        since = clock.utcnow() - timedelta(seconds=FRESH_SECONDS)
        radius, limit, skill = query.get("radiusKm", 5), query.get("limit", 20), query.get("skill")
        here = unit_vector(query["lat"], query["lng"])
        ranked = []
        for doc in everyone:
            fix = doc["last_fix"]
            if fix["recorded_at"] < since or (skill and skill not in doc["skills"]):
                continue
            if not exact_everywhere and (
                    M_MIN_KM * central_angle(here, unit_vector(fix["lat"], fix["lng"])) - 1e-6
                    > radius):
                continue
            km = geodesic_km(query["lat"], query["lng"], fix["lat"], fix["lng"])
            if km <= radius:
                ranked.append((km, -bayesian_rating(doc["rating_average"], doc["rating_count"]),
                               doc["_id"]))
        ranked.sort()
        return [tech_id for _, _, tech_id in ranked[:limit]]

    def report(self) -> None:
        info = machine()
        print()
        print(f"Nearby search, {self.args.technicians:,} technicians around {len(CITIES)} "
              f"Indian cities — {info['cores']} cores, {info['cpu']}, {info['memory']}, "
              f"Python {info['python']}")
        print()
        print("| how | queries | p50 ms | p99 ms (max for the slow ones) | queries/s |")
        print("|---|---|---|---|---|")
        for row in self.rows:
            print("| " + " | ".join(row) + " |")
        print()
        for note in self.notes:
            print(f"- {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--technicians", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=400, help="HTTP queries per concurrency")
    parser.add_argument("--slow-queries", type=int, default=5,
                        help="queries also answered by $geoNear and the full Python scan")
    parser.add_argument("--seed", type=int, default=11)
    asyncio.run(Bench(parser.parse_args()).run())


if __name__ == "__main__":
    main()
