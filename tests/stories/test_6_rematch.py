"""Story 6 — from the README's repair walk-through: a technician who cancels (with a reason)
sends the job back to matching, and it is offered at once to the next technician, never again
to the one who cancelled; a customer cancels before work starts."""

from tests.stories.people import World, fresh_place, north_of
from tests.stories.repairs import assignment, hardware_booking, move, on_duty, technician


async def test_a_cancelled_job_goes_to_the_next_technician(world: World):
    ops = await world.admin("ops")
    place = fresh_place()
    near, near_profile = await technician(world, ops, ["hardware"], place, "Near")
    await on_duty(world, near, near_profile["id"], north_of(place, 0.3))
    next_, next_profile = await technician(world, ops, ["hardware"], place, "Next")
    await on_duty(world, next_, next_profile["id"], north_of(place, 2.0))
    customer = await world.person("customer", "Farah")

    repair = await world.post(customer, "/api/repairs", hardware_booking(place))
    repair_id = repair["id"]
    assert repair["offer"]["technicianId"] == near_profile["id"]
    await assignment(world, near, repair_id, "accept")
    await move(world, near, repair_id, "start_travel", "en_route")

    # A technician's cancel needs a reason; with one, the job is re-matched in that request.
    refused = await world.refused(near, "PATCH", f"/api/repairs/{repair_id}/status", 422,
                                  {"action": "cancel"})
    assert refused["data"]
    rematched = await world.patch(near, f"/api/repairs/{repair_id}/status",
                                  {"action": "cancel", "reason": "My scooter broke down"})
    assert rematched["status"] == "offered"
    assert rematched["offer"]["technicianId"] == next_profile["id"]
    await world.refused(near, "GET", f"/api/repairs/{repair_id}", 404)
    assert (await world.get(near, "/api/technicians/me/offers"))["items"] == []
    offers = await world.get(next_, "/api/technicians/me/offers")
    assert [o["id"] for o in offers["items"]] == [repair_id]
    accepted = await assignment(world, next_, repair_id, "accept")
    assert accepted["technicianId"] == next_profile["id"]

    # The customer changes their mind before work starts: cancelled, at no fee by default.
    cancelled = await move(world, customer, repair_id, "cancel", "cancelled")
    assert cancelled["cancellationFee"] == 0 and cancelled["cancelledAt"]
    await world.refused(next_, "PATCH", f"/api/repairs/{repair_id}/status", 409,
                        {"action": "arrive"})
    mine = await world.get(customer, "/api/repairs", status="cancelled")
    assert [r["id"] for r in mine["items"]] == [repair_id]
