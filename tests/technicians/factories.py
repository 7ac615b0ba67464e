"""Technician stories: a technician account with a submitted, approved or on-duty profile, and
technicians seeded straight into the database (many at once) for the nearby search."""

import itertools
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from app.core import clock
from app.technicians import repository
from app.technicians.geodesy import cell_of
from app.technicians.models import Fix, GeoPoint, LatLng, Skill, Technician, TechnicianStatus
from app.technicians.service import search_cell_for, search_entry
from tests.helpers import Account, Api

_serial = itertools.count(1)
BANGALORE = (12.9716, 77.5946)


def technician_profile(**overrides: Any) -> dict[str, Any]:
    return {
        "skills": ["hardware"],
        "specialities": ["display", "battery"],
        "certifications": [{"name": "Mobile Repair Level 2", "issuer": "ESSCI", "number": "C-1"}],
        "servicePincodes": ["560001", "560025"],
        "baseLocation": {"lat": BANGALORE[0], "lng": BANGALORE[1]},
        "bio": "Ten years of board-level repair",
        **overrides,
    }


async def submitted_technician(api: Api, **overrides: Any) -> tuple[Account, dict[str, Any]]:
    account = await api.technician()
    response = await api.client.post(
        "/api/technicians", json=technician_profile(**overrides), headers=account.headers
    )
    assert response.status_code == 201, response.text
    return account, response.json()["data"]


async def approve(api: Api, technician_id: str, admin: Account | None = None) -> dict[str, Any]:
    admin = admin or await api.root_admin()
    response = await api.client.patch(
        f"/api/technicians/{technician_id}/status", json={"action": "approve"},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def approved_technician(
    api: Api, admin: Account | None = None, **overrides: Any
) -> tuple[Account, dict[str, Any]]:
    account, technician = await submitted_technician(api, **overrides)
    return account, await approve(api, technician["id"], admin)


def fix_body(lat: float, lng: float, accuracy: float = 10.0, at: datetime | None = None,
             **extra: Any) -> dict[str, Any]:
    recorded = at or clock.utcnow()
    return {"lat": lat, "lng": lng, "accuracyM": accuracy, "recordedAt": recorded.isoformat(),
            **extra}


async def send_fix(api: Api, account: Account, technician_id: str, lat: float, lng: float,
                   **extra: Any) -> Any:
    return await api.client.post(
        f"/api/technicians/{technician_id}/location", json=fix_body(lat, lng, **extra),
        headers=account.headers,
    )


async def set_available(api: Api, account: Account, technician_id: str,
                        available: bool = True) -> Any:
    return await api.client.patch(
        f"/api/technicians/{technician_id}/availability", json={"available": available},
        headers=account.headers,
    )


async def on_duty_technician(
    api: Api, lat: float, lng: float, admin: Account | None = None, **overrides: Any
) -> tuple[Account, dict[str, Any]]:
    """An approved technician with an accurate fix at (lat, lng), available."""
    account, technician = await approved_technician(api, admin, **overrides)
    sent = await send_fix(api, account, technician["id"], lat, lng)
    assert sent.status_code == 201, sent.text
    response = await set_available(api, account, technician["id"])
    assert response.status_code == 200, response.text
    return account, response.json()["data"]


async def nearby(api: Api, caller: Account, lat: float, lng: float, **params: Any) -> Any:
    return await api.client.get(
        "/api/technicians/nearby", params={"lat": lat, "lng": lng, **params},
        headers=caller.headers,
    )


def seeded_technician(
    lat: float, lng: float, *, skills: tuple[Skill, ...] = (Skill.HARDWARE,),
    available: bool = True, accurate: bool = True, age: timedelta = timedelta(seconds=30),
    status: TechnicianStatus = TechnicianStatus.APPROVED, rating: tuple[float, int] = (0.0, 0),
    now: datetime | None = None, technician_id: str | None = None,
) -> Technician:
    """A technician document as the API leaves it after approval, a fix and going available
    (built with the app's own rules for the cell and searchability)."""
    n = next(_serial)
    now = now or clock.utcnow()
    recorded = (now - age).astimezone(UTC)
    recorded = recorded.replace(microsecond=recorded.microsecond // 1000 * 1000)
    cell = cell_of(lat, lng)
    fix = Fix(lat=lat, lng=lng, accuracy_m=10.0 if accurate else 250.0, recorded_at=recorded,
              received_at=recorded, h3_cell=cell, accurate=accurate)
    extra = {"id": technician_id} if technician_id else {}
    return Technician(
        **extra,
        user_id=f"usr_seed_{n}_{random.getrandbits(32):08x}", name=f"Technician {n}",
        skills=list(skills), service_pincodes=["560001"], base_location=LatLng(lat=lat, lng=lng),
        status=status, available=available, last_fix=fix,
        location=GeoPoint(coordinates=[lng, lat]), h3_cell=cell,
        search_cell=search_cell_for(status, available, fix),
        rating_average=rating[0], rating_count=rating[1],
    )


async def seed(technicians: list[Technician]) -> None:
    """Insert seeded technicians straight into the database, with their search entries."""
    await repository.insert_many(technicians, [search_entry(t)[1] for t in technicians])
