"""Rating stories: completed repairs inserted straight into the database (the repair flow is
built beside this domain), a customer's rating of one, and a technician's ratings read."""

from datetime import datetime
from typing import Any

import httpx

from app.core import clock
from app.repairs.models import IssueType, LatLng, Repair, RepairMode, RepairStatus
from tests.helpers import Account, Api
from tests.technicians.factories import approved_technician

BANGALORE = LatLng(lat=12.9716, lng=77.5946)


async def repair_of(customer: Account, technician_id: str, technician_user_id: str,
                    status: RepairStatus = RepairStatus.COMPLETED,
                    completed_at: datetime | None = None) -> Repair:
    """A hardware repair of `customer` by that technician, in `status` (completed now unless
    `completed_at` is given)."""
    now = clock.utcnow()
    done = status is RepairStatus.COMPLETED
    repair = Repair(
        customer_id=customer.id, device_brand="Samsung", device_model="Galaxy S21",
        issue_type=IssueType.HARDWARE, issue_description="Cracked display, touch unresponsive",
        mode=RepairMode.OFFLINE, location=BANGALORE, status=status,
        technician_id=technician_id, technician_user_id=technician_user_id, accepted_at=now,
        started_at=now if done else None,
        completed_at=(completed_at or now) if done else None,
        resolution_notes="Display replaced" if done else None,
    )
    await repair.insert()
    return repair


async def technician_with_repair(
    api: Api, customer: Account | None = None, admin: Account | None = None,
) -> tuple[Account, dict[str, Any], Account, Repair]:
    """An approved technician, a customer, and a repair of the customer it completed now."""
    account, technician = await approved_technician(api, admin)
    customer = customer or await api.customer()
    repair = await repair_of(customer, technician["id"], account.id)
    return account, technician, customer, repair


async def rate(api: Api, customer: Account, repair_id: str, score: Any = 5,
               **extra: Any) -> httpx.Response:
    return await api.client.post("/api/ratings", json={"repairId": repair_id, "score": score,
                                                       **extra}, headers=customer.headers)


async def rated(api: Api, customer: Account, repair_id: str, score: int,
                **extra: Any) -> dict[str, Any]:
    response = await rate(api, customer, repair_id, score, **extra)
    assert response.status_code == 201, response.text
    return response.json()["data"]


async def ratings_of(api: Api, caller: Account, technician_id: str,
                     **params: Any) -> httpx.Response:
    return await api.client.get(f"/api/ratings/{technician_id}", params=params,
                                headers=caller.headers)
