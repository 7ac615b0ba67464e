"""Story 5 — strangers in the shared database: by now it holds the earlier stories' people,
repairs, payments and chats. Another customer cannot see, accept or pay someone's repair;
another technician cannot take an offer that was not made to it, nor work the job."""

import asyncio
import uuid

from tests.stories.people import World, fresh_place, idem, north_of
from tests.stories.repairs import assignment, hardware_booking, on_duty, technician

LINES = [{"description": "Charging port", "kind": "part", "amount": 90_000}]


async def test_strangers_cannot_touch_anothers_repair(world: World):
    ops, finance = await world.admin("ops"), await world.admin("finance")
    compliance = await world.admin("compliance")
    place = fresh_place()
    near, near_profile = await technician(world, ops, ["hardware"], place, "Near")
    await on_duty(world, near, near_profile["id"], north_of(place, 0.3))
    far, far_profile = await technician(world, ops, ["hardware"], place, "Far")
    await on_duty(world, far, far_profile["id"], north_of(place, 3.0))
    owner = await world.person("customer", "Owner")
    stranger = await world.person("customer", "Stranger")

    repair = await world.post(owner, "/api/repairs", hardware_booking(place))
    repair_id = repair["id"]
    assert repair["status"] == "offered" and repair["offer"]["technicianId"] == near_profile["id"]
    path = f"/api/repairs/{repair_id}"

    # Another customer: the job does not exist for it, and it is in none of its lists.
    await world.refused(stranger, "GET", path, 404)
    assert (await world.get(stranger, "/api/repairs"))["items"] == []
    await world.refused(stranger, "PATCH", f"{path}/status", 404, {"action": "cancel"})
    # Another technician: the offer was not made to it.
    assert (await world.get(far, "/api/technicians/me/offers"))["items"] == []
    await world.refused(far, "GET", path, 404)
    await world.refused(far, "PATCH", f"{path}/assignment", 404, {"action": "accept"})
    await world.refused(far, "PATCH", f"{path}/assignment", 404, {"action": "decline"})
    unchanged = await world.get(owner, path)
    assert unchanged["status"] == "offered"
    assert unchanged["offer"]["technicianId"] == near_profile["id"]
    assert unchanged["updatedAt"] == repair["updatedAt"]

    accepted = await assignment(world, near, repair_id, "accept")
    assert accepted["technicianId"] == near_profile["id"]
    for action in ("start_travel", "arrive"):
        await world.patch(near, f"{path}/status", {"action": action})

    # Quote: only the assigned technician; a customer's role never quotes.
    await world.refused(far, "POST", f"{path}/quote", 404, {"lines": LINES})
    await world.refused(stranger, "POST", f"{path}/quote", 403, {"lines": LINES})
    await world.refused(far, "PATCH", f"{path}/status", 404, {"action": "start"})
    quoted = await world.post(near, f"{path}/quote", {"lines": LINES})
    assert quoted["quote"]["status"] == "proposed"

    # Accepting the quote and paying: only the job's customer.
    await world.refused(stranger, "POST", f"{path}/quote/accept", 404)
    assert (await world.get(owner, path))["quote"]["status"] == "proposed"
    await world.post(owner, f"{path}/quote/accept", expect=200)
    await world.refused(stranger, "POST", "/api/payments", 404, {"repairId": repair_id},
                        **idem())
    assert (await world.get(stranger, "/api/payments"))["items"] == []
    assert (await world.get(owner, path))["paymentId"] is None
    payment = await world.pay(owner, {"repairId": repair_id}, 90_000)
    await world.ledger_is_valid(finance)
    await world.refused(stranger, "GET", f"/api/payments/{payment['id']}", 404)
    await world.refused(far, "GET", f"/api/payments/{payment['id']}", 404)

    # The job's chat, media and disputes are closed to both strangers.
    for outsider in (stranger, far):
        await world.refused(outsider, "GET", f"/api/chat/{repair_id}/history", 404)
        await world.refused(outsider, "POST", f"/api/chat/{repair_id}/messages", 404,
                            {"text": "hi", "clientMessageId": uuid.uuid4().hex})
        upload = await world.http.post("/api/media", data={"jobId": repair_id},
                                       files={"file": ("x.png", b"\x89PNG\r\n", "image/png")},
                                       headers=outsider.headers)
        assert upload.status_code == 404, upload.text
    async with world.socket(stranger) as sock:
        assert await sock.refused("chat:join", {"jobId": repair_id}) == "NOT_FOUND"
    await world.refused(stranger, "POST", "/api/disputes", 404,
                        {"repairId": repair_id, "reason": "not_as_described",
                         "details": "I never booked this repair at all, honestly."})
    assert (await world.get(stranger, "/api/disputes"))["items"] == []

    # Completed by its technician: only its customer may rate it.
    for action, notes in (("start", None), ("complete", "Port replaced")):
        await world.patch(near, f"{path}/status",
                          {"action": action, **({"resolutionNotes": notes} if notes else {})})
    await world.refused(stranger, "POST", "/api/ratings", 404, {"repairId": repair_id, "score": 1})
    await world.refused(far, "POST", "/api/ratings", 403, {"repairId": repair_id, "score": 1})
    assert (await world.get(stranger, f"/api/ratings/{near_profile['id']}"))["count"] == 0

    # The owner still sees its job, paid, with the right technician.
    mine = await world.get(owner, path)
    assert mine["paymentId"] == payment["id"] and mine["technicianId"] == near_profile["id"]
    await world.ledger_is_valid(finance)
    await world.audit_is_valid(compliance)


async def test_two_customers_booking_at_once_near_one_technician(world: World):
    """A technician holds at most one live offer, however the bookings interleave."""
    ops = await world.admin("ops")
    place = fresh_place()
    tech, profile = await technician(world, ops, ["hardware"], place, "Solo")
    await on_duty(world, tech, profile["id"], north_of(place, 0.5))
    first, second = (await world.person("customer", "First"),
                     await world.person("customer", "Second"))

    booked = await asyncio.gather(
        world.post(first, "/api/repairs", hardware_booking(place)),
        world.post(second, "/api/repairs", hardware_booking(north_of(place, 0.1))),
    )

    statuses = sorted(repair["status"] for repair in booked)
    assert statuses == ["offered", "unassigned"], booked
    offered = next(repair for repair in booked if repair["status"] == "offered")
    assert offered["offer"]["technicianId"] == profile["id"]
    offers = await world.get(tech, "/api/technicians/me/offers")
    assert [o["id"] for o in offers["items"]] == [offered["id"]]
    alerts = await world.get(ops, "/api/admin/alerts", kind="repair_unassigned")
    left = next(repair for repair in booked if repair["status"] == "unassigned")
    assert left["id"] in [alert["subjectId"] for alert in alerts["items"]]
