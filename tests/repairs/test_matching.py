"""Hardware matching: the best eligible technician is offered the job (unavailable, stale,
busy, far, wrong-skill and already-offered ones are skipped); declines and expiries move to
the next; none left leaves the job unassigned with an admin alert; the score weighs
distance, rating and acceptance."""

import asyncio
from datetime import timedelta

from app.core import clock
from app.repairs import tasks
from app.repairs.models import OfferOutcome, RepairOffer
from tests.repairs.factories import (
    HOME,
    alerts_of,
    assignment,
    book,
    book_hardware,
    data_of,
    get,
    hardware_body,
    my_offers,
    north_of,
    technician_near,
)
from tests.technicians.factories import set_available


async def test_the_best_eligible_technician_is_offered_the_job(api, mongo_db):
    ops = await api.admin("ops")
    customer = await api.customer()
    # Stale: available, but its last fix is older than LOCATION_FRESH_SECONDS.
    _, stale = await technician_near(api, HOME, km=0.1, admin=ops)
    clock.advance(timedelta(minutes=11))
    # Busy: accepted another job.
    busy_account, busy = await technician_near(api, HOME, km=0.2, admin=ops)
    other = await book_hardware(api, customer, *HOME)
    assert other["offer"]["technicianId"] == busy["id"]
    data_of(await assignment(api, busy_account, other["id"], "accept"))
    # Holding a live offer of another job.
    _, holding = await technician_near(api, HOME, km=0.3, admin=ops)
    offered_elsewhere = await book_hardware(api, customer, *HOME)
    assert offered_elsewhere["offer"]["technicianId"] == holding["id"]
    # Off duty, software only, and beyond the 10 km radius.
    off_account, off_duty = await technician_near(api, HOME, km=0.4, admin=ops)
    assert (await set_available(api, off_account, off_duty["id"], False)).status_code == 200
    _, software = await technician_near(api, HOME, km=0.5, admin=ops, skills=["software"])
    _, far = await technician_near(api, HOME, km=10.5, admin=ops)
    _, second = await technician_near(api, HOME, km=5, admin=ops)
    best_account, best = await technician_near(api, HOME, km=3, admin=ops)

    repair = await book_hardware(api, customer, *HOME)

    assert repair["status"] == "offered"
    assert repair["offer"]["technicianId"] == best["id"]
    doc = await mongo_db.repairs.find_one({"_id": repair["id"]})
    assert doc["offered_technician_ids"] == [best["id"]]
    skipped = {stale["id"], busy["id"], holding["id"], off_duty["id"], software["id"], far["id"],
               second["id"]}
    assert await mongo_db.repair_offers.count_documents(
        {"repair_id": repair["id"], "technician_id": {"$in": list(skipped)}}) == 0
    # The offered technician is told, and sees the offer.
    note = await mongo_db.notifications.find_one({"kind": "repair_offer",
                                                  "subject_id": repair["id"]})
    assert note["user_id"] == best_account.id
    offers = data_of(await my_offers(api, best_account))["items"]
    assert [o["id"] for o in offers] == [repair["id"]]
    audit = await api.audited(await api.root_admin(), "repair.offer", repair["id"])
    assert audit[0]["metadata"]["technicianId"] == best["id"]
    assert abs(audit[0]["metadata"]["distanceKm"] - 3) < 0.05


async def test_acceptance_rate_outweighs_a_small_distance(api, mongo_db):
    ops = await api.admin("ops")
    _, declining = await technician_near(api, HOME, km=1, admin=ops)
    _, reliable = await technician_near(api, HOME, km=2, admin=ops)
    now = clock.utcnow()
    await RepairOffer.insert_many([
        RepairOffer(repair_id=f"rep_old_{i}", technician_id=declining["id"],
                    offered_at=now - timedelta(hours=i + 1), expires_at=now - timedelta(hours=i),
                    outcome=OfferOutcome.DECLINED)
        for i in range(20)])
    customer = await api.customer()

    repair = await book_hardware(api, customer, *HOME)

    # 0.5·0.9 + 0.3·0.8 + 0.2·0 = 0.69 against 0.5·0.8 + 0.3·0.8 + 0.2·1 = 0.84.
    assert repair["offer"]["technicianId"] == reliable["id"]


async def test_decline_offers_the_next_and_none_left_alerts(api, mongo_db):
    ops = await api.admin("ops")
    first_account, first = await technician_near(api, HOME, km=1, admin=ops)
    second_account, second = await technician_near(api, HOME, km=2, admin=ops)
    customer = await api.customer()
    repair = await book_hardware(api, customer, *HOME)
    assert repair["offer"]["technicianId"] == first["id"]

    declined = data_of(await assignment(api, first_account, repair["id"], "decline",
                                        reason="Too far today"))

    assert declined["status"] == "offered" and declined["offer"]["technicianId"] == second["id"]
    assert [(h["action"], h["toStatus"]) for h in declined["statusHistory"][-2:]] == [
        ("decline", "unassigned"), ("offer", "offered")]
    outcome = await mongo_db.repair_offers.find_one({"repair_id": repair["id"],
                                                     "technician_id": first["id"]})
    assert outcome["outcome"] == "declined"
    # The decliner no longer sees it.
    assert (await get(api, first_account, repair["id"])).status_code == 404
    assert data_of(await my_offers(api, first_account))["items"] == []

    last = data_of(await assignment(api, second_account, repair["id"], "decline"))

    assert last["status"] == "unassigned" and last["offer"] is None
    alerts = await alerts_of(api, "repair_unassigned")
    assert [a["subjectId"] for a in alerts] == [repair["id"]]
    doc = await mongo_db.repairs.find_one({"_id": repair["id"]})
    assert sorted(doc["offered_technician_ids"]) == sorted([first["id"], second["id"]])


async def test_expiry_moves_to_the_next_candidate(api, mongo_db):
    ops = await api.admin("ops")
    _, first = await technician_near(api, HOME, km=1, admin=ops)
    customer = await api.customer()
    repair = await book_hardware(api, customer, *HOME)
    assert repair["offer"]["technicianId"] == first["id"]
    # A second technician comes on duty later, farther away.
    second_account, second = await technician_near(api, HOME, km=4, admin=ops)

    assert await tasks.expire_offers() is False  # not expired yet: nothing moves
    assert (await mongo_db.repairs.find_one({"_id": repair["id"]}))["offer"]["technician_id"] \
        == first["id"]
    clock.advance(timedelta(seconds=121))
    # The second one's fix is still fresh (10 minutes); the first's too.
    await tasks.expire_offers()

    moved = data_of(await get(api, customer, repair["id"]))
    assert moved["status"] == "offered" and moved["offer"]["technicianId"] == second["id"]
    expired = await mongo_db.repair_offers.find_one({"repair_id": repair["id"],
                                                     "technician_id": first["id"]})
    assert expired["outcome"] == "expired"
    assert moved["statusHistory"][-2]["action"] == "expire"
    # The expired technician is not offered it again when the second one's offer expires.
    clock.advance(timedelta(seconds=121))
    await tasks.expire_offers()
    final = data_of(await get(api, customer, repair["id"]))
    assert final["status"] == "unassigned"
    assert [a["subjectId"] for a in await alerts_of(api, "repair_unassigned")] == [repair["id"]]
    assert data_of(await my_offers(api, second_account))["items"] == []


async def test_no_technician_near_leaves_the_job_unassigned(api, mongo_db):
    ops = await api.admin("ops")
    await technician_near(api, HOME, km=12, admin=ops)
    customer = await api.customer()
    repair = await book_hardware(api, customer, *north_of(HOME, 0))
    assert repair["status"] == "unassigned" and repair["offer"] is None
    assert await mongo_db.repair_offers.count_documents({}) == 0
    alerts = await alerts_of(api, "repair_unassigned")
    assert len(alerts) == 1 and alerts[0]["subjectId"] == repair["id"]


async def test_low_acceptance_raises_an_alert_never_a_block(api, mongo_db):
    ops = await api.admin("ops")
    account, technician = await technician_near(api, HOME, km=1, admin=ops)
    now = clock.utcnow()
    await RepairOffer.insert_many([
        RepairOffer(repair_id=f"rep_old_{i}", technician_id=technician["id"],
                    offered_at=now - timedelta(hours=i + 1), expires_at=now - timedelta(hours=i),
                    outcome=OfferOutcome.ACCEPTED if i < 9 else OfferOutcome.DECLINED)
        for i in range(19)])
    customer = await api.customer()
    repair = await book_hardware(api, customer, *HOME)
    assert await alerts_of(api, "technician_low_acceptance") == []

    data_of(await assignment(api, account, repair["id"], "decline"))

    # 19 decided offers were too few to judge; with this decline, 9 accepted of 20.
    alerts = await alerts_of(api, "technician_low_acceptance")
    assert [a["subjectId"] for a in alerts] == [technician["id"]]
    assert alerts[0]["details"]["offers"] == 20
    again = await book_hardware(api, customer, *HOME)
    assert again["offer"]["technicianId"] == technician["id"]  # still matched


async def test_concurrent_bookings_never_give_one_technician_two_live_offers(api, mongo_db):
    ops = await api.admin("ops")
    _, only = await technician_near(api, HOME, km=1, admin=ops)
    customers = [await api.customer() for _ in range(3)]

    responses = await asyncio.gather(*(book(api, c, hardware_body(*HOME)) for c in customers))

    repairs = [data_of(r, 201) for r in responses]
    assert sorted(r["status"] for r in repairs) == ["offered", "unassigned", "unassigned"]
    assert await mongo_db.repair_offers.count_documents(
        {"technician_id": only["id"], "outcome": "pending"}) == 1
    alerts = await alerts_of(api, "repair_unassigned")
    assert len(alerts) == 2
