"""Repair stories: customers booking hardware and software repairs, technicians on duty near
them, and jobs at each stage (offered, accepted, travelling, in progress). Reusable by the
payment-terminal and ratings tests."""

from datetime import timedelta
from typing import Any

import httpx

from app.core import clock
from tests.helpers import Account, Api
from tests.technicians.factories import on_duty_technician

HOME = (12.9352, 77.6245)  # Koramangala, Bangalore
KM_NORTH = 1 / 111.2
VALID_IMEI = "490154203237518"  # 15 digits, Luhn-valid
ADDRESS = {"line1": "4 Residency Road", "city": "Bengaluru", "state": "Karnataka",
           "pincode": "560025"}


def north_of(spot: tuple[float, float], km: float) -> tuple[float, float]:
    return (spot[0] + km * KM_NORTH, spot[1])


def hardware_body(lat: float, lng: float, **overrides: Any) -> dict[str, Any]:
    return {
        "deviceBrand": "Samsung", "deviceModel": "Galaxy S21", "imei": VALID_IMEI,
        "issueType": "hardware", "issueDescription": "The screen is cracked and flickers",
        "mode": "offline", "location": {"lat": lat, "lng": lng}, "address": ADDRESS,
        **overrides,
    }


def software_body(**overrides: Any) -> dict[str, Any]:
    return {
        "deviceBrand": "Apple", "deviceModel": "iPhone 13",
        "issueType": "software", "issueDescription": "Stuck in a boot loop after an update",
        "mode": "online", **overrides,
    }


async def book(api: Api, customer: Account, body: dict[str, Any]) -> httpx.Response:
    return await api.client.post("/api/repairs", json=body, headers=customer.headers)


async def book_hardware(api: Api, customer: Account, lat: float, lng: float,
                        **overrides: Any) -> dict[str, Any]:
    """A booked hardware repair at (lat, lng): offered or unassigned already."""
    response = await book(api, customer, hardware_body(lat, lng, **overrides))
    assert response.status_code == 201, response.text
    return response.json()["data"]


async def book_software(api: Api, customer: Account, **overrides: Any) -> dict[str, Any]:
    response = await book(api, customer, software_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()["data"]


async def technician_near(api: Api, spot: tuple[float, float], km: float = 0.5,
                          admin: Account | None = None,
                          **overrides: Any) -> tuple[Account, dict[str, Any]]:
    """An approved, available technician (hardware by default) `km` north of `spot`."""
    return await on_duty_technician(api, *north_of(spot, km), admin=admin, **overrides)


async def assignment(api: Api, caller: Account, repair_id: str, action: str,
                     **body: Any) -> httpx.Response:
    return await api.client.patch(f"/api/repairs/{repair_id}/assignment",
                                  json={"action": action, **body}, headers=caller.headers)


async def status(api: Api, caller: Account, repair_id: str, action: str,
                 **body: Any) -> httpx.Response:
    return await api.client.patch(f"/api/repairs/{repair_id}/status",
                                  json={"action": action, **body}, headers=caller.headers)


async def get(api: Api, caller: Account, repair_id: str) -> httpx.Response:
    return await api.client.get(f"/api/repairs/{repair_id}", headers=caller.headers)


def data_of(response: httpx.Response, code: int = 200) -> dict[str, Any]:
    assert response.status_code == code, response.text
    body = response.json()
    assert body["success"] is True and body["traceId"] == response.headers["x-request-id"]
    return body["data"]


async def accepted_repair(
    api: Api, customer: Account | None = None, spot: tuple[float, float] = HOME,
    **overrides: Any,
) -> tuple[dict[str, Any], Account, Account, dict[str, Any]]:
    """A hardware repair booked at `spot`, offered to the one technician on duty nearby and
    accepted: (repair, customer, technician account, technician profile)."""
    customer = customer or await api.customer()
    technician, profile = await technician_near(api, spot)
    repair = await book_hardware(api, customer, *spot, **overrides)
    assert repair["offer"]["technicianId"] == profile["id"], repair
    accepted = data_of(await assignment(api, technician, repair["id"], "accept"))
    assert accepted["status"] == "accepted"
    return accepted, customer, technician, profile


async def in_progress_repair(api: Api, **kwargs: Any) -> tuple[dict[str, Any], Account, Account,
                                                               dict[str, Any]]:
    """An accepted offline repair the technician travelled to, reached and started."""
    repair, customer, technician, profile = await accepted_repair(api, **kwargs)
    for action in ("start_travel", "arrive", "start"):
        repair = data_of(await status(api, technician, repair["id"], action))
    assert repair["status"] == "in_progress"
    return repair, customer, technician, profile


def later(minutes: float) -> str:
    return (clock.utcnow() + timedelta(minutes=minutes)).isoformat()


async def alerts_of(api: Api, kind: str) -> list[dict[str, Any]]:
    """The open alerts of `kind`, as an ops admin lists them."""
    ops = await api.admin("ops")
    response = await api.client.get("/api/admin/alerts", params={"kind": kind, "open": "true"},
                                    headers=ops.headers)
    return data_of(response)["items"]


async def my_offers(api: Api, technician: Account) -> httpx.Response:
    return await api.client.get("/api/technicians/me/offers", headers=technician.headers)
