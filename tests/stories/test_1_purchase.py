"""Story 1 — the README's "a purchase, end to end": a dealer is approved and lists a part, a
customer orders and pays through the sandbox, the order is fulfilled, finance releases the
escrow and pays the dealer out."""

from tests.stories.people import World, data_of, idem, unique_gstin

PRICE = 199_900


async def test_a_purchase_end_to_end(world: World):
    ops, finance = await world.admin("ops"), await world.admin("finance")
    compliance = await world.admin("compliance")

    # 1. The dealer signs up and applies: pending.
    dealer = await world.person("dealer", "Spare Hub Traders")
    profile = await world.post(dealer, "/api/dealers", {
        "businessName": "Spare Hub Traders", "gstin": unique_gstin(),
        "address": {"line1": "12 MG Road", "city": "Pune", "state": "Maharashtra",
                    "pincode": "411001"},
        "contactPhone": "+919812345678",
    })
    assert profile["status"] == "pending" and profile["id"].startswith("dlr_")
    dealer_id = profile["id"]
    await world.refused(dealer, "POST", "/api/products", 403, {"sku": "X"})

    # 2. An ops admin approves.
    approved = await world.patch(ops, f"/api/dealers/{dealer_id}/status", {"action": "approve"})
    assert approved["status"] == "approved"
    assert (await world.get(dealer, "/api/dealers/me"))["status"] == "approved"

    # 3. The dealer lists a part.
    sku = f"IP13-OLED-{dealer_id[-6:]}"
    product = await world.post(dealer, "/api/products", {
        "sku": sku, "title": f"iPhone 13 OLED display {dealer_id}", "brand": "Apple",
        "category": "display", "compatibleModels": ["iPhone 13"], "b2bPrice": 150_000,
        "b2cPrice": PRICE, "mrp": 249_900, "stock": 10,
    })
    assert product["dealerId"] == dealer_id and product["sku"] == sku

    # 4. A customer finds it and orders: pending_payment, the stock reserved.
    customer = await world.person("customer", "Asha")
    found = await world.get(customer, "/api/products", q="oled", dealerId=dealer_id)
    assert product["id"] in [item["id"] for item in found["items"]]
    order = await world.post(customer, "/api/orders", {
        "items": [{"productId": product["id"], "quantity": 1}],
        "deliveryAddress": {"name": "Asha", "phone": "+919876543210", "line1": "4 Residency Rd",
                            "city": "Bengaluru", "state": "Karnataka", "pincode": "560025"},
    })
    assert order["status"] == "pending_payment" and order["buyerId"] == customer.id
    assert order["dealerId"] == dealer_id
    total = order["total"]
    assert total >= PRICE
    stock = await world.get(dealer, f"/api/inventory/{dealer_id}")
    line = next(item for item in stock["items"] if item["productId"] == product["id"])
    assert line["reservedCount"] == 1 and line["available"] == 9

    # 5–7. The customer pays: checkout in the sandbox, verify; the escrow holds it.
    await world.ledger_is_valid(finance)
    payment = await world.pay(customer, {"orderId": order["id"]}, total)
    # The app verifying twice (a retry) is harmless.
    assert (await world.get(customer, f"/api/payments/{payment['id']}"))["status"] == "captured"
    assert payment["orderId"] == order["id"] and payment["payeeId"] == dealer_id
    assert (await world.get(customer, f"/api/orders/{order['id']}"))["status"] == "paid"
    await world.ledger_is_valid(finance)
    pending = await world.get(dealer, "/api/payouts/balance", recipientId=dealer_id)
    assert pending["pendingEscrow"] == total  # the gross amount held for it
    assert pending["payable"] == 0

    # 8. The dealer packs and ships; the customer confirms delivery.
    path = f"/api/orders/{order['id']}/status"
    assert (await world.patch(dealer, path, {"action": "pack"}))["status"] == "packed"
    shipped = await world.patch(dealer, path, {"action": "ship", "carrier": "BlueDart",
                                               "trackingNumber": "BD123"})
    assert shipped["status"] == "shipped"
    await world.refused(dealer, "PATCH", path, 403, {"action": "deliver"})
    assert (await world.patch(customer, path, {"action": "deliver"}))["status"] == "delivered"

    # 9. Finance releases the escrow: the dealer's share to its payable, the order completed.
    key = idem()
    released = await world.patch(finance, f"/api/payments/{payment['id']}/release", **key)
    assert released["escrowStatus"] == "released"
    # A retry with the same key (a lost answer) replays it, in the retry's own envelope (its
    # traceId is the retry's X-Request-ID); it never releases twice.
    retry = await world.http.patch(f"/api/payments/{payment['id']}/release",
                                   headers={**finance.headers, **key})
    assert retry.headers["idempotent-replayed"] == "true"
    again = data_of(retry)
    assert again["id"] == released["id"] and again["escrowStatus"] == "released"
    assert again["amountReleased"] == total
    share = payment["commissionBreakdown"]["dealerShare"]
    assert share == total - payment["commissionBreakdown"]["commission"]
    assert (await world.get(customer, f"/api/orders/{order['id']}"))["status"] == "completed"
    await world.ledger_is_valid(finance)
    balance = await world.get(dealer, "/api/payouts/balance", recipientId=dealer_id)
    assert balance["payable"] == share and balance["pendingEscrow"] == 0

    # 10. The dealer's bank account, verified by finance, and the payout.
    await world.payout_account(dealer, finance, "Spare Hub Traders")
    payout = await world.paid_out(finance, dealer_id, share)
    assert payout["recipientId"] == dealer_id
    await world.ledger_is_valid(finance)
    balance = await world.get(dealer, "/api/payouts/balance", recipientId=dealer_id)
    assert balance["payable"] == 0 and balance["paidOut"] == share
    assert balance["inTransit"] == 0 and balance["pendingEscrow"] == 0

    # 12. The books: the ledger and the audit chain verify; the order's trail shows each step
    # by its person, from that person's address.
    await world.ledger_is_valid(finance)
    await world.audit_is_valid(compliance)
    trail = (await world.get(compliance, "/api/audit/logs", subjectId=order["id"],
                             limit=100))["items"]
    by = {(entry["actorId"], entry["source"]["ip"]) for entry in trail}
    assert {(customer.id, customer.ip), (dealer.id, dealer.ip)} <= by, trail
    assert len(trail) >= 5, [entry["action"] for entry in trail]
