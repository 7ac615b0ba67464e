"""Release, holds, refunds and the high-value second approval, with the ledger checked."""

import asyncio

from app.payments.ledger import accounts
from tests.helpers import eventually
from tests.orders import factories as order_factories
from tests.payments.factories import Payments, balance, escrow_of


async def test_release_before_delivery_is_409_and_changes_nothing(pay: Payments):
    purchase = await pay.paid()
    response = await pay.release(purchase.payment["id"])
    assert response.status_code == 409
    current = await pay.payment(purchase.payment["id"])
    assert current["escrowStatus"] == "held"
    assert await escrow_of(purchase.payment["id"]) == purchase.payment["amount"]


async def test_release_needs_finance_scope(pay: Payments):
    purchase = await pay.delivered()
    for scopes in (("ops",), ("compliance",)):
        admin = await pay.api.admin(*scopes)
        assert (await pay.release(purchase.payment["id"], admin)).status_code == 403
    buyer_try = await pay.release(purchase.payment["id"], purchase.buyer)
    assert buyer_try.status_code == 403
    assert (await pay.payment(purchase.payment["id"]))["escrowStatus"] == "held"


async def test_manual_hold_blocks_release_until_lifted(pay: Payments):
    purchase = await pay.delivered()
    finance = await pay.finance()
    payment_id = purchase.payment["id"]
    held = await pay.client.patch(f"/api/payments/{payment_id}/hold",
                                  json={"hold": True, "reason": "KYC review"},
                                  headers=finance.headers)
    assert held.status_code == 200, held.text
    assert held.json()["data"]["escrowStatus"] == "on_hold"
    refused = await pay.release(payment_id)
    assert refused.status_code == 409
    assert await escrow_of(payment_id) == purchase.payment["amount"]
    lifted = await pay.client.patch(f"/api/payments/{payment_id}/hold",
                                    json={"hold": False, "reason": "KYC cleared"},
                                    headers=finance.headers)
    assert lifted.json()["data"]["escrowStatus"] == "held"
    assert (await pay.release(payment_id)).status_code == 200
    await pay.ledger_is_valid()


async def test_partial_refunds_up_to_captured_and_not_a_paisa_more(pay: Payments):
    purchase = await pay.paid(b2c=60_000)
    payment_id, total = purchase.payment["id"], purchase.payment["amount"]
    first = await pay.refund(payment_id, 10_000)
    assert first.status_code == 201, first.text
    assert first.json()["data"]["status"] == "processed"
    assert (await pay.payment(payment_id))["status"] == "partially_refunded"
    too_much = await pay.refund(payment_id, total - 10_000 + 1)
    assert too_much.status_code == 422
    assert too_much.json()["data"]["refundable"] == total - 10_000
    rest = await pay.refund(payment_id, total - 10_000)
    assert rest.status_code == 201
    final = await pay.payment(payment_id)
    assert final["status"] == "refunded" and final["escrowStatus"] == "refunded"
    assert final["amountRefunded"] == total
    assert (await pay.refund(payment_id, 100)).status_code in (409, 422)
    assert await escrow_of(payment_id) == 0
    assert await balance(accounts.REFUNDS) == total
    await pay.ledger_is_valid()


async def test_refund_amounts_must_be_whole_paise_of_at_least_one_rupee(pay: Payments):
    purchase = await pay.paid()
    for amount in (0, -100, 10.5, "100", True, 99):  # Razorpay refuses refunds under ₹1.00
        response = await pay.refund(purchase.payment["id"], amount)
        assert response.status_code == 422, amount
    assert (await pay.payment(purchase.payment["id"]))["amountRefunded"] == 0


async def test_concurrent_refunds_never_exceed_captured(pay: Payments):
    purchase = await pay.paid(b2c=60_000)
    payment_id, total = purchase.payment["id"], purchase.payment["amount"]
    half = total // 2 + 1
    finance = await pay.finance()
    results = await asyncio.gather(*(pay.refund(payment_id, half, finance) for _ in range(5)))
    assert sorted(r.status_code for r in results).count(201) == 1
    assert (await pay.payment(payment_id))["amountRefunded"] == half
    await pay.ledger_is_valid()


async def test_refund_after_release_debits_the_payable_and_commission_pro_rata(pay: Payments):
    purchase = await pay.delivered(b2c=60_000)
    payment_id = purchase.payment["id"]
    assert (await pay.release(payment_id)).status_code == 200
    payable_before = await balance(accounts.payable(purchase.shop.dealer_id))
    revenue_before = await balance(accounts.PLATFORM_REVENUE)
    refunded = await pay.refund(payment_id, 5_000)
    assert refunded.status_code == 201
    # 5,000 × 6,000 / 64,900 = 462.25 → 462 from the commission, 4,538 from the dealer.
    assert refunded.json()["data"]["platformPart"] == 462
    assert await balance(accounts.payable(purchase.shop.dealer_id)) == payable_before - 4_538
    assert await balance(accounts.PLATFORM_REVENUE) == revenue_before - 462
    await pay.ledger_is_valid()


async def test_high_value_release_needs_a_second_finance_admin(pay: Payments):
    purchase = await pay.delivered(b2c=5_100_000)
    payment_id = purchase.payment["id"]
    first_admin = await pay.finance()
    second_admin = await pay.api.admin("finance")
    first = await pay.release(payment_id, first_admin)
    assert first.status_code == 202, first.text
    assert first.json()["data"]["escrowStatus"] == "held"
    assert first.json()["data"]["releaseApproval"]["requestedBy"] == first_admin.id
    assert await escrow_of(payment_id) == purchase.payment["amount"]
    same_admin_again = await pay.release(payment_id, first_admin)
    assert same_admin_again.status_code == 409
    second = await pay.release(payment_id, second_admin)
    assert second.status_code == 200, second.text
    assert second.json()["data"]["escrowStatus"] == "released"
    await pay.ledger_is_valid()


async def test_release_replay_with_same_key_returns_first_result(pay: Payments):
    purchase = await pay.delivered()
    key = {"Idempotency-Key": "release-key-0001"}
    first = await pay.release(purchase.payment["id"], **key)
    again = await pay.release(purchase.payment["id"], **key)
    assert first.status_code == again.status_code == 200
    assert again.json()["data"] == first.json()["data"]
    other_key = await pay.release(purchase.payment["id"])
    assert other_key.status_code == 409
    assert await balance(accounts.payable(purchase.shop.dealer_id)) == \
        first.json()["data"]["commissionBreakdown"]["dealerShare"]


async def test_ops_lead_override_releases_early_with_reason(pay: Payments):
    purchase = await pay.paid()
    ops = await pay.api.admin("ops_lead")
    plain_ops = await pay.release(purchase.payment["id"], await pay.api.admin("ops"),
                                  body={"override": True, "reason": "Dealer hardship, approved"})
    assert plain_ops.status_code == 403 and plain_ops.json()["success"] is False
    no_reason = await pay.release(purchase.payment["id"], ops, body={"override": True})
    assert no_reason.status_code == 422 and no_reason.json()["success"] is False
    assert (await pay.payment(purchase.payment["id"]))["escrowStatus"] == "held"
    early = await pay.release(purchase.payment["id"], ops,
                              body={"override": True, "reason": "Dealer hardship, approved"})
    assert early.status_code == 200, early.text
    assert early.json()["data"]["escrowStatus"] == "released"
    compliance = await pay.api.admin("compliance")
    entries = await pay.api.wait_for_audit(compliance, override="true",
                                           subjectId=purchase.payment["id"])
    assert entries[0]["action"] == "payment.released" and entries[0]["actorId"] == ops.id
    assert entries[0]["reason"] == "Dealer hardship, approved"
    await pay.ledger_is_valid()


async def test_cancelling_a_paid_order_refunds_the_buyer(pay: Payments):
    purchase = await pay.paid()
    cancelled = await order_factories.move(pay.api, purchase.buyer, purchase.order["id"],
                                           "cancel", reason="Changed my mind")
    assert cancelled.status_code == 200, cancelled.text

    async def refunded():
        return await pay.payment(purchase.payment["id"])

    final = await eventually(refunded, lambda p: p["status"] == "refunded")
    assert final["escrowStatus"] == "refunded"
    assert await escrow_of(purchase.payment["id"]) == 0
    await pay.ledger_is_valid()
