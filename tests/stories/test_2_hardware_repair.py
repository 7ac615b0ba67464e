"""Story 2 — the README's "a repair, end to end": a hardware technician is approved and goes
on duty, a customer nearby books, the technician is offered the job, travels, quotes, is paid
through the sandbox, completes, is released, paid out and rated."""

from tests.stories.people import World, fresh_place, idem, north_of
from tests.stories.repairs import (
    assignment,
    hardware_booking,
    move,
    on_duty,
    quoted,
    technician,
)

LINES = [{"description": "OLED display", "kind": "part", "amount": 650_000},
         {"description": "Labour", "kind": "labour", "amount": 50_000}]
TOTAL = 700_000  # ₹7,000: under the ₹50,000 second-approval threshold


async def test_a_hardware_repair_end_to_end(world: World):
    ops, finance = await world.admin("ops"), await world.admin("finance")
    compliance = await world.admin("compliance")
    place = fresh_place()

    # The technician signs up, applies and is approved; it sends a fresh fix 400 m from the
    # customer and goes available.
    tech, profile = await technician(world, ops, ["hardware"], place)
    technician_id = profile["id"]
    on_duty_profile = await on_duty(world, tech, technician_id, north_of(place, 0.4))
    assert on_duty_profile["status"] == "approved"

    # The customer finds it nearby (its position rounded to about 100 m).
    customer = await world.person("customer", "Meera")
    found = await world.get(customer, "/api/technicians/nearby", lat=place[0], lng=place[1])
    assert [t["technicianId"] for t in found["items"]] == [technician_id]
    assert found["items"][0]["distanceKm"] == 0.4 and found["items"][0]["skills"] == ["hardware"]

    # 1. The customer books a hardware repair there: offered to that technician at once.
    repair = await world.post(customer, "/api/repairs", hardware_booking(place))
    repair_id = repair["id"]
    assert repair_id.startswith("rep_") and repair["customerId"] == customer.id
    assert repair["status"] == "offered" and repair["offer"]["technicianId"] == technician_id
    assert repair["imei"] == "•••••••••••7518" and repair["technicianId"] is None
    # Booked into the pool, then matched within the same request.
    assert [(s["action"], s["toStatus"]) for s in repair["statusHistory"]] == [
        ("book", "unassigned"), ("offer", "offered")]

    # 2. The technician sees the offer and accepts it.
    offers = await world.get(tech, "/api/technicians/me/offers")
    assert [o["id"] for o in offers["items"]] == [repair_id]
    assert offers["items"][0]["offer"]["technicianId"] == technician_id
    accepted = await assignment(world, tech, repair_id, "accept")
    assert accepted["status"] == "accepted" and accepted["technicianId"] == technician_id
    assert accepted["offer"] is None
    assert (await world.get(tech, "/api/technicians/me/offers"))["items"] == []
    mine = await world.get(tech, "/api/repairs")
    assert [r["id"] for r in mine["items"]] == [repair_id]

    # 3. Travel and arrive.
    await move(world, tech, repair_id, "start_travel", "en_route")
    await move(world, tech, repair_id, "arrive", "on_site")

    # 4. The technician quotes a part and labour; the customer accepts the quote.
    quote = await quoted(world, tech, customer, repair_id, LINES)
    assert [line["kind"] for line in quote["lines"]] == ["part", "labour"]

    # 5. The customer pays the quote into escrow.
    await world.ledger_is_valid(finance)
    payment = await world.pay(customer, {"repairId": repair_id}, TOTAL)
    assert payment["payableType"] == "repair" and payment["repairId"] == repair_id
    assert payment["payeeId"] == technician_id
    assert (await world.get(customer, f"/api/repairs/{repair_id}"))["paymentId"] == payment["id"]
    await world.ledger_is_valid(finance)
    pending = await world.get(tech, "/api/payouts/balance", recipientId=technician_id)
    assert pending["pendingEscrow"] == TOTAL and pending["payable"] == 0

    # Release before completion is refused and changes nothing.
    await world.refused(finance, "PATCH", f"/api/payments/{payment['id']}/release", 409,
                        **idem())

    # 6. Work and complete.
    await move(world, tech, repair_id, "start", "in_progress")
    await world.refused(tech, "PATCH", f"/api/repairs/{repair_id}/status", 422,
                        {"action": "complete"})
    done = await move(world, tech, repair_id, "complete", "completed",
                      resolutionNotes="Replaced the display")
    assert done["resolutionNotes"] == "Replaced the display" and done["completedAt"]
    assert [s["toStatus"] for s in done["statusHistory"]] == [
        "unassigned", "offered", "accepted", "en_route", "on_site", "in_progress", "completed"]

    # Free again: the next customer nearby is offered to the same technician.
    neighbour = await world.person("customer", "Neighbour")
    next_job = await world.post(neighbour, "/api/repairs", hardware_booking(north_of(place, 0.2)))
    assert next_job["status"] == "offered"
    assert next_job["offer"]["technicianId"] == technician_id
    declined = await assignment(world, tech, next_job["id"], "decline", reason="Off for the day")
    assert declined["status"] == "unassigned" and declined["offer"] is None

    # 7. Finance releases (one approval: under the threshold); the payout.
    released = await world.patch(finance, f"/api/payments/{payment['id']}/release", **idem())
    assert released["escrowStatus"] == "released"
    share = payment["commissionBreakdown"]["dealerShare"]
    assert share == TOTAL - payment["commissionBreakdown"]["commission"] and 0 < share < TOTAL
    await world.ledger_is_valid(finance)
    balance = await world.get(tech, "/api/payouts/balance", recipientId=technician_id)
    assert balance["payable"] == share and balance["pendingEscrow"] == 0

    account = await world.payout_account(tech, finance, "Ravi Kumar")
    assert account["recipientId"] == technician_id and account["recipientType"] == "technician"
    payout = await world.paid_out(finance, technician_id, share)
    assert payout["recipientId"] == technician_id
    await world.ledger_is_valid(finance)
    balance = await world.get(tech, "/api/payouts/balance", recipientId=technician_id)
    assert balance["payable"] == 0 and balance["paidOut"] == share

    # 8. The customer rates the work; the technician's ratings show it.
    rating = await world.post(customer, "/api/ratings",
                              {"repairId": repair_id, "score": 5, "comments": "Quick and tidy"})
    assert rating["score"] == 5 and rating["technicianId"] == technician_id
    await world.refused(customer, "POST", "/api/ratings", 409,
                        {"repairId": repair_id, "score": 4})
    ratings = await world.get(customer, f"/api/ratings/{technician_id}")
    assert ratings["count"] == 1 and ratings["average"] == 5.0
    assert ratings["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1}
    assert [r["id"] for r in ratings["items"]] == [rating["id"]]
    assert ratings["items"][0]["comments"] == "Quick and tidy"
    assert 1.0 <= ratings["bayesian"] <= 5.0

    await world.ledger_is_valid(finance)
    await world.audit_is_valid(compliance)
    trail = await world.get(compliance, "/api/audit/logs", subjectId=repair_id, limit=100)
    actions = {entry["action"] for entry in trail["items"]}
    assert len(trail["items"]) >= 6 and all(a.startswith("repair.") for a in actions), actions
    # Who and from where: each step by its person, from that person's own address.
    booked_entry = trail["items"][-1]
    assert booked_entry["actorId"] == customer.id, booked_entry
    assert booked_entry["source"]["ip"] == customer.ip, booked_entry
    by_technician = [e for e in trail["items"] if e["actorId"] == tech.id]
    assert by_technician and {e["source"]["ip"] for e in by_technician} == {tech.ip}
