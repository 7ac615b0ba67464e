"""The whole purchase through the real SDK and sandbox: money captured, held, released."""



from app.payments.ledger import accounts
from tests.orders import factories as order_factories
from tests.payments.factories import Payments, balance, escrow_of, idem
from tests.payouts import factories as payout_factories


async def test_full_purchase_holds_then_releases_money_minus_commission(pay: Payments):
    shop, buyer, order = await pay.order(b2c=60_000)
    assert order["total"] == 64_900  # 60,000 subtotal + 4,900 delivery below ₹999

    started = await pay.start(buyer, order["id"])
    assert started.status_code == 201, started.text
    payment = started.json()["data"]
    assert payment["orderId"] == order["id"]
    assert payment["status"] == "created" and payment["escrowStatus"] == "pending"
    assert payment["amount"] == 64_900 and payment["currency"] == "INR"
    assert payment["keyId"] and payment["gatewayOrderId"].startswith("order_")
    await pay.ledger_is_valid()

    purchase_checkout = await pay.live.checkout(payment["gatewayOrderId"], deliver_webhook=False)
    assert purchase_checkout.status_code == 200
    verified = await pay.client.post("/api/payments/verify", json=purchase_checkout.json(),
                                     headers=buyer.headers)
    assert verified.status_code == 200, verified.text
    captured = verified.json()["data"]
    assert captured["status"] == "captured" and captured["escrowStatus"] == "held"
    assert captured["amountCaptured"] == 64_900
    assert await escrow_of(payment["id"]) == 64_900
    status = await pay.client.get(f"/api/orders/{order['id']}", headers=buyer.headers)
    assert status.json()["data"]["status"] == "paid"
    await pay.ledger_is_valid()

    for account, action, extra in (
        (shop.account, "pack", {}),
        (shop.account, "ship", {"carrier": "BlueDart", "trackingNumber": "BD123456"}),
        (buyer, "deliver", {}),
    ):
        moved = await order_factories.move(pay.api, account, order["id"], action, **extra)
        assert moved.status_code == 200, moved.text
        await pay.ledger_is_valid()

    released = await pay.release(payment["id"])
    assert released.status_code == 200, released.text
    data = released.json()["data"]
    assert data["escrowStatus"] == "released" and data["amountReleased"] == 64_900
    assert data["commissionBreakdown"] == {
        "rateBps": 1000, "commission": 6_000, "dealerShare": 58_900, "platformShare": 6_000,
    }
    assert await escrow_of(payment["id"]) == 0
    assert await balance(accounts.payable(shop.dealer_id)) == 64_900 - 6_000
    assert await balance(accounts.PLATFORM_REVENUE) == 6_000
    completed = await pay.client.get(f"/api/orders/{order['id']}", headers=buyer.headers)
    assert completed.json()["data"]["status"] == "completed"
    await pay.ledger_is_valid()

    finance = await pay.finance()
    registered = await payout_factories.register_account(pay.api, shop.account)
    assert registered.status_code == 201, registered.text
    await payout_factories.verify_account(pay.api, finance, registered.json()["data"]["id"])
    payout = await pay.client.post("/api/payouts", json={"recipientId": shop.dealer_id},
                                   headers={**finance.headers, **idem()})
    assert payout.status_code == 201, payout.text
    # Paid once RazorpayX reports it processed; the sandbox may report before this answer.
    assert payout.json()["data"]["status"] in {"processing", "paid"}
    assert payout.json()["data"]["amount"] == 58_900
    paid = await payout_factories.settled(pay.api, finance, payout.json()["data"]["id"])
    assert paid["status"] == "paid"
    balance_view = await pay.client.get("/api/payouts/balance",
                                        params={"recipientId": shop.dealer_id},
                                        headers=shop.account.headers)
    figures = balance_view.json()["data"]
    assert (figures["payable"], figures["pendingEscrow"], figures["paidOut"]) == (0, 0, 58_900)
    await pay.ledger_is_valid()

    compliance = await pay.api.admin("compliance")
    actions = {e["action"] for e in await pay.api.wait_for_audit(
        compliance, count=3, subjectId=payment["id"])}
    assert {"payment.created", "payment.captured", "payment.released"} <= actions


async def test_tampered_signature_is_400_changes_nothing_and_is_audited(pay: Payments):
    purchase = await pay.started()
    await pay.checkout(purchase, deliver_webhook=False)
    response = await pay.verify(purchase, razorpay_signature="0" * 64)
    assert response.status_code == 400
    assert response.json()["success"] is False
    current = await pay.payment(purchase.payment["id"])
    assert current["status"] == "created" and current["escrowStatus"] == "pending"
    assert await escrow_of(purchase.payment["id"]) == 0
    assert await pay.order_status(purchase) == "pending_payment"
    compliance = await pay.api.admin("compliance")
    entries = await pay.api.wait_for_audit(compliance, action="payment.signature_invalid")
    assert entries[0]["subjectId"] == purchase.payment["id"]


async def test_verifying_twice_and_concurrently_moves_money_once(pay: Payments):
    import asyncio

    purchase = await pay.started()
    await pay.checkout(purchase, deliver_webhook=False)
    results = await asyncio.gather(*(pay.verify(purchase) for _ in range(20)))
    assert {r.status_code for r in results} == {200}
    assert await escrow_of(purchase.payment["id"]) == purchase.payment["amount"]
    again = await pay.verify(purchase)
    assert again.status_code == 200
    assert await escrow_of(purchase.payment["id"]) == purchase.payment["amount"]
    report = await pay.ledger_is_valid()
    assert report["checkedTransactions"] == 1


async def test_webhook_first_then_verify_captures_once(pay: Payments):
    purchase = await pay.started()
    await pay.checkout(purchase, deliver_webhook=True)

    async def captured():
        return (await pay.payment(purchase.payment["id"]))["status"]

    from tests.helpers import eventually

    await eventually(captured, lambda status: status == "captured")
    response = await pay.verify(purchase)
    assert response.status_code == 200
    assert await escrow_of(purchase.payment["id"]) == purchase.payment["amount"]
    assert (await pay.ledger_is_valid())["checkedTransactions"] == 1


async def test_verify_first_then_webhook_replayed_three_times_changes_nothing(pay: Payments):
    purchase = await pay.paid()
    events = (await pay.sandbox("GET", "/webhooks")).json()
    captured_event = next(e for e in events if e["event"] == "payment.captured")
    for _ in range(3):
        replay = await pay.sandbox("POST", f"/webhooks/{captured_event['id']}/redeliver")
        assert replay.status_code == 200
    replays = (await pay.sandbox("GET", f"/webhooks/{captured_event['id']}")).json()
    assert [d["statusCode"] for d in replays["deliveries"]] == [200, 200, 200]
    assert await escrow_of(purchase.payment["id"]) == purchase.payment["amount"]
    assert (await pay.ledger_is_valid())["checkedTransactions"] == 1


async def test_late_payment_failed_never_undoes_a_capture(pay: Payments):
    purchase = await pay.paid()
    sent = await pay.sandbox("POST", "/webhooks/send", json={
        "event": "payment.failed", "paymentId": purchase.checkout["razorpay_payment_id"]})
    assert sent.status_code == 200
    assert sent.json()["deliveries"][-1]["statusCode"] == 200
    current = await pay.payment(purchase.payment["id"])
    assert current["status"] == "captured" and current["escrowStatus"] == "held"
    assert await pay.order_status(purchase) == "paid"


async def test_forged_webhook_is_400_and_counted_into_an_alert(pay: Payments):
    response = await pay.client.post(
        "/api/payments/webhook", content=b'{"entity":"event","event":"payment.captured"}',
        headers={"X-Razorpay-Signature": "f" * 64, "X-Razorpay-Event-Id": "evt_forged",
                 "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    finance = await pay.finance()
    listed = await pay.client.get("/api/admin/alerts", params={"kind": "webhook_bad_signatures"},
                                  headers=finance.headers)
    alerts = listed.json()["data"]["items"]
    assert len(alerts) == 1 and alerts[0]["details"]["count"] == 1
    compliance = await pay.api.admin("compliance")
    assert await pay.api.audit_entries(compliance, action="payment.webhook_signature_invalid") == []


async def test_failed_checkout_marks_payment_failed_and_order_stays_payable(pay: Payments):
    purchase = await pay.started()
    failed = await pay.checkout(purchase, outcome="failure", deliver_webhook=True)
    assert failed.status_code == 400

    async def status():
        return (await pay.payment(purchase.payment["id"]))["status"]

    from tests.helpers import eventually

    await eventually(status, lambda s: s == "failed")
    assert await pay.order_status(purchase) == "pending_payment"
    retry = await pay.start(purchase.buyer, purchase.order["id"])
    assert retry.status_code == 201
    assert retry.json()["data"]["id"] != purchase.payment["id"]


async def test_idempotency_key_replays_first_answer_and_refuses_other_body(pay: Payments):
    shop, buyer, order = await pay.order()
    _, _, other_order = await pay.order()
    key = {"Idempotency-Key": "same-key-123456"}
    first = await pay.start(buyer, order["id"], **key)
    second = await pay.start(buyer, order["id"], **key)
    assert first.status_code == second.status_code == 201
    assert second.json()["data"]["id"] == first.json()["data"]["id"]
    assert second.headers.get("Idempotent-Replayed") == "true"
    # The replay is the first answer in the retry's own envelope: its own trace id.
    assert second.json()["traceId"] == second.headers["x-request-id"]
    assert second.json()["traceId"] != first.json()["traceId"]
    different = await pay.client.post("/api/payments", json={"orderId": other_order["id"]},
                                      headers={**buyer.headers, **key})
    assert different.status_code == 422
    missing = await pay.client.post("/api/payments", json={"orderId": order["id"]},
                                    headers=buyer.headers)
    assert missing.status_code == 422


async def test_another_buyers_order_or_payment_is_404(pay: Payments):
    purchase = await pay.started()
    stranger = await pay.api.customer()
    response = await pay.start(stranger, purchase.order["id"])
    assert response.status_code == 404
    peek = await pay.client.get(f"/api/payments/{purchase.payment['id']}",
                                headers=stranger.headers)
    assert peek.status_code == 404
    dealer_view = await pay.client.get(f"/api/payments/{purchase.payment['id']}",
                                       headers=purchase.shop.account.headers)
    assert dealer_view.status_code == 200


async def test_concurrent_starts_for_one_order_open_one_payment(pay: Payments):
    import asyncio

    _, buyer, order = await pay.order()
    responses = await asyncio.gather(*(pay.start(buyer, order["id"]) for _ in range(5)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["data"]["id"] for r in responses}) == 1
    listed = await pay.client.get("/api/payments", headers=buyer.headers)
    assert len(listed.json()["data"]["items"]) == 1
