"""Story 4 — a repair dispute: the customer of a paid, completed repair disputes it, the
escrow freezes and the job's chat is locked; an ops admin refunds the customer."""

import uuid

from tests.stories.people import World, idem
from tests.stories.repairs import hardware_job, move, quoted

LINES = [{"description": "Battery", "kind": "part", "amount": 180_000},
         {"description": "Labour", "kind": "labour", "amount": 40_000}]
TOTAL = 220_000


async def test_a_repair_dispute_refunds_the_customer(world: World):
    ops, finance = await world.admin("ops"), await world.admin("finance")
    compliance = await world.admin("compliance")
    customer, tech, profile, repair = await hardware_job(world, ops)
    repair_id = repair["id"]
    await move(world, tech, repair_id, "start_travel", "en_route")
    await move(world, tech, repair_id, "arrive", "on_site")
    await quoted(world, tech, customer, repair_id, LINES)
    payment = await world.pay(customer, {"repairId": repair_id}, TOTAL)
    await world.ledger_is_valid(finance)
    await move(world, tech, repair_id, "start", "in_progress")
    await move(world, tech, repair_id, "complete", "completed", resolutionNotes="New battery")
    chat_path = f"/api/chat/{repair_id}/messages"
    before = await world.post(customer, chat_path,
                              {"text": "The battery drains in an hour", "clientMessageId":
                               uuid.uuid4().hex})
    assert before["senderId"] == customer.id

    # The customer disputes the repair: the escrow freezes.
    dispute = await world.post(customer, "/api/disputes", {
        "repairId": repair_id, "reason": "not_as_described",
        "details": "The new battery drains within an hour, same as before."})
    assert dispute["repairId"] == repair_id and dispute["orderId"] is None
    assert dispute["technicianId"] == profile["id"] and dispute["buyerId"] == customer.id
    assert dispute["amountInDispute"] == TOTAL and dispute["status"] == "open"
    frozen = await world.get(finance, f"/api/payments/{payment['id']}")
    assert frozen["escrowStatus"] == "disputed"
    await world.refused(finance, "PATCH", f"/api/payments/{payment['id']}/release", 409,
                        **idem())
    await world.ledger_is_valid(finance)
    mine = await world.get(tech, "/api/disputes")
    assert [d["id"] for d in mine["items"]] == [dispute["id"]]

    # The job's chat is locked while the dispute is open: REST and Socket.IO refuse posts.
    for who in (customer, tech):
        locked = await world.refused(who, "POST", chat_path, 409,
                                     {"text": "Hello?", "clientMessageId": uuid.uuid4().hex})
        assert locked["data"]["code"] == "CHAT_CLOSED"
    async with world.socket(tech) as sock:
        joined = await sock.ok("chat:join", {"jobId": repair_id})
        assert joined["status"] == "locked"
        code = await sock.refused("chat:send", {"jobId": repair_id, "text": "Hello?",
                                                "clientMessageId": uuid.uuid4().hex})
        assert code == "CHAT_CLOSED"
    history = await world.get(customer, f"/api/chat/{repair_id}/history")
    assert history["status"] == "locked" and [m["id"] for m in history["items"]] == [before["id"]]

    # An ops admin refunds the customer.
    resolved = await world.patch(ops, f"/api/admin/disputes/{dispute['id']}",
                                 {"resolution": "refund_buyer", "note": "Battery was faulty"},
                                 **idem())
    assert resolved["status"] == "resolved"
    outcome = resolved["resolution"]
    assert outcome["refundedAmount"] == TOTAL and outcome["releasedAmount"] == 0
    refunded = await world.get(customer, f"/api/payments/{payment['id']}")
    assert refunded["status"] == "refunded" and refunded["escrowStatus"] == "refunded"
    balance = await world.get(tech, "/api/payouts/balance", recipientId=profile["id"])
    assert balance["payable"] == 0 and balance["pendingEscrow"] == 0
    assert (await world.get(customer, f"/api/repairs/{repair_id}"))["status"] == "completed"
    await world.ledger_is_valid(finance)
    await world.audit_is_valid(compliance)
