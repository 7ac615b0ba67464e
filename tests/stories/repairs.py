"""Repair steps the stories share: technicians on duty at a place, bookings, moves."""

from typing import Any

from tests.stories.people import Person, World, fresh_place, north_of, now_iso

IMEI = "490154203237518"  # Luhn-valid
ADDRESS = {"line1": "12 MG Road", "city": "Bengaluru", "state": "Karnataka", "pincode": "560001"}


async def technician(world: World, approver: Person, skills: list[str],
                     place: tuple[float, float], name: str = "Ravi") -> tuple[Person, dict[str, Any]]:
    """A technician signs up, applies (pending) and an admin approves it."""
    person = await world.person("technician", name)
    profile = await world.post(person, "/api/technicians", {
        "skills": skills, "specialities": ["display", "battery"],
        "certifications": [{"name": "Mobile Repair Level 2", "issuer": "ESSCI", "number": "C-1"}],
        "servicePincodes": ["560001"],
        "baseLocation": {"lat": place[0], "lng": place[1]},
    })
    assert profile["status"] == "pending" and profile["id"].startswith("tch_")
    assert profile["skills"] == skills
    approved = await world.patch(approver, f"/api/technicians/{profile['id']}/status",
                                 {"action": "approve"})
    assert approved["status"] == "approved"
    return person, approved


async def on_duty(world: World, person: Person, technician_id: str,
                  place: tuple[float, float]) -> dict[str, Any]:
    """A fresh accurate fix at `place`, then available."""
    fix = await world.post(person, f"/api/technicians/{technician_id}/location",
                           {"lat": place[0], "lng": place[1], "accuracyM": 12,
                            "recordedAt": now_iso()})
    assert fix["h3Cell"], fix
    available = await world.patch(person, f"/api/technicians/{technician_id}/availability",
                                  {"available": True})
    assert available["available"] is True and available["id"] == technician_id
    return available


def hardware_booking(place: tuple[float, float]) -> dict[str, Any]:
    return {
        "deviceBrand": "Apple", "deviceModel": "iPhone 13", "imei": IMEI,
        "issueType": "hardware", "issueDescription": "Cracked screen, touch not working",
        "mode": "offline", "location": {"lat": place[0], "lng": place[1]}, "address": ADDRESS,
    }


def software_booking() -> dict[str, Any]:
    return {"deviceBrand": "Samsung", "deviceModel": "Galaxy S21", "issueType": "software",
            "issueDescription": "Stuck in a boot loop after an update", "mode": "online"}


async def move(world: World, who: Person, repair_id: str, action: str, expect: str,
               **body: Any) -> dict[str, Any]:
    """A lifecycle step; the job is `expect` afterwards and its history says so."""
    repair = await world.patch(who, f"/api/repairs/{repair_id}/status", {"action": action, **body})
    assert repair["id"] == repair_id and repair["status"] == expect, repair
    last = repair["statusHistory"][-1]
    assert last["action"] == action and last["toStatus"] == expect, last
    return repair


async def assignment(world: World, who: Person, repair_id: str, action: str,
                     **body: Any) -> dict[str, Any]:
    return await world.patch(who, f"/api/repairs/{repair_id}/assignment",
                             {"action": action, **body})


async def hardware_job(world: World, ops: Person) -> tuple[Person, Person, dict[str, Any],
                                                             dict[str, Any]]:
    """A customer's hardware repair at a place of its own, offered to and accepted by the one
    technician on duty there: (customer, technician, its profile, the accepted job)."""
    place = fresh_place()
    tech, profile = await technician(world, ops, ["hardware"], place)
    await on_duty(world, tech, profile["id"], north_of(place, 0.4))
    customer = await world.person("customer", "Meera")
    booked = await world.post(customer, "/api/repairs", hardware_booking(place))
    assert booked["status"] == "offered" and booked["offer"]["technicianId"] == profile["id"]
    accepted = await assignment(world, tech, booked["id"], "accept")
    assert accepted["status"] == "accepted" and accepted["technicianId"] == profile["id"]
    return customer, tech, profile, accepted


async def quoted(world: World, tech: Person, customer: Person, repair_id: str,
                 lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The technician quotes, the customer accepts: the accepted quote."""
    proposed = await world.post(tech, f"/api/repairs/{repair_id}/quote", {"lines": lines})
    total = sum(line["amount"] for line in lines)
    assert proposed["quote"]["status"] == "proposed" and proposed["quote"]["total"] == total
    accepted = await world.post(customer, f"/api/repairs/{repair_id}/quote/accept", expect=200)
    assert accepted["quote"]["status"] == "accepted" and accepted["quote"]["total"] == total
    return accepted["quote"]
