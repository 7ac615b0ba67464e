"""Refunds after release: split as the release was split, and what the dealer's payable
cannot cover becomes its receivable, netted off its next payout; the ledger checks both."""

from typing import Any

from app.payments.ledger import accounts
from app.payments.models import Refund
from tests.helpers import Account, eventually
from tests.orders import factories as order_factories
from tests.payments.factories import Payments, Purchase, balance
from tests.payouts.factories import balance_of, pay_out, register_account, settled, verify_account

# b2c 55,100 + delivery 4,900: 60,000 released, of which 5,510 (10 %) is the platform's.
ODD_PRICE = 55_100


async def _released(pay: Payments, b2c: int = 60_000) -> tuple[Purchase, dict[str, Any]]:
    purchase = await pay.delivered(b2c=b2c)
    released = await pay.release(purchase.payment["id"])
    assert released.status_code == 200, released.text
    return purchase, released.json()["data"]


async def _refund(pay: Payments, payment_id: str, amount: int) -> dict[str, Any]:
    response = await pay.refund(payment_id, amount)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["success"] is True and body["message"] == "Refund issued"
    return body["data"]


async def test_full_refund_after_release_takes_back_dealer_share_and_commission(pay: Payments):
    purchase, released = await _released(pay)
    payment_id, dealer_id = purchase.payment["id"], purchase.shop.dealer_id
    split = released["commissionBreakdown"]
    assert (split["dealerShare"], split["platformShare"]) == (58_900, 6_000)
    revenue_before = await balance(accounts.PLATFORM_REVENUE)
    assert await balance(accounts.payable(dealer_id)) == 58_900

    refund = await _refund(pay, payment_id, released["amountReleased"])

    assert refund["status"] == "processed"
    assert (refund["platformPart"], refund["receivablePart"]) == (6_000, 0)
    assert await balance(accounts.payable(dealer_id)) == 0
    assert await balance(accounts.PLATFORM_REVENUE) == revenue_before - 6_000
    assert await balance(accounts.receivable(dealer_id)) == 0
    assert await balance(accounts.refund_in_flight(payment_id)) == 0
    assert await balance(accounts.REFUNDS) == 64_900
    payment = await pay.payment(payment_id)
    assert payment["status"] == "refunded" and payment["escrowStatus"] == "released"
    stored = await Refund.get(refund["id"])
    assert stored is not None and stored.platform_part == 6_000
    report = await pay.ledger_is_valid()
    assert report["receivablesOwed"] == {}


async def test_partial_refunds_after_release_split_pro_rata_rounding_half_up(pay: Payments):
    purchase, released = await _released(pay, b2c=ODD_PRICE)
    payment_id, dealer_id = purchase.payment["id"], purchase.shop.dealer_id
    split = released["commissionBreakdown"]
    assert released["amountReleased"] == 60_000
    assert (split["dealerShare"], split["platformShare"]) == (54_490, 5_510)
    revenue_before = await balance(accounts.PLATFORM_REVENUE)

    # 9,000 × 5,510 / 60,000 = 826.5 paise: half-up gives 827 (half-even would give 826).
    first = await _refund(pay, payment_id, 9_000)
    assert (first["platformPart"], first["receivablePart"]) == (827, 0)
    assert await balance(accounts.payable(dealer_id)) == 54_490 - 8_173
    assert await balance(accounts.PLATFORM_REVENUE) == revenue_before - 827

    # The rest: the running total takes back exactly the whole platform share, no paisa more.
    rest = await _refund(pay, payment_id, 51_000)
    assert rest["platformPart"] == 5_510 - 827
    assert await balance(accounts.payable(dealer_id)) == 0
    assert await balance(accounts.PLATFORM_REVENUE) == revenue_before - 5_510
    payment = await pay.payment(payment_id)
    assert payment["amountRefunded"] == 60_000 and payment["status"] == "refunded"
    await pay.ledger_is_valid()


async def _paid_out_everything(pay: Payments, dealer: Account, dealer_id: str) -> dict[str, Any]:
    finance = await pay.finance()
    registered = await register_account(pay.api, dealer)
    assert registered.status_code == 201, registered.text
    await verify_account(pay.api, finance, registered.json()["data"]["id"])
    response = await pay_out(pay.api, finance, dealer_id)
    assert response.status_code == 201, response.text
    payout = await settled(pay.api, finance, response.json()["data"]["id"])
    assert payout["status"] == "paid"
    return payout


async def test_refund_after_payout_becomes_a_receivable_netted_from_the_next_payout(
    pay: Payments,
):
    purchase, _ = await _released(pay)
    payment_id, dealer_id = purchase.payment["id"], purchase.shop.dealer_id
    finance = await pay.finance()
    first_payout = await _paid_out_everything(pay, purchase.shop.account, dealer_id)
    assert first_payout["amount"] == 58_900

    # 10,000 × 6,000 / 64,900 = 924.499…: 924 from the platform, 9,076 the dealer now owes.
    refund = await _refund(pay, payment_id, 10_000)
    assert (refund["platformPart"], refund["receivablePart"]) == (924, 9_076)
    assert await balance(accounts.receivable(dealer_id)) == -9_076
    owing = await balance_of(pay.api, finance, dealer_id)
    assert (owing["payable"], owing["receivable"], owing["available"]) == (0, 9_076, 0)
    as_dealer = await balance_of(pay.api, purchase.shop.account, dealer_id)
    assert as_dealer["receivable"] == 9_076
    report = await pay.ledger_is_valid()
    assert report["receivablesOwed"] == {dealer_id: 9_076}
    assert {"receivables_owed_not_negative", "receivable_postings_paired",
            "refunds_in_flight_match_refunds"} <= set(report["checks"])

    nothing = await pay_out(pay.api, finance, dealer_id)
    assert nothing.status_code == 422
    assert nothing.json()["data"]["ruleFlags"] == ["nothing_to_pay_out"]
    assert nothing.json()["data"]["receivable"] == 9_076

    # The dealer's next sale: its payout nets the debt off first.
    second = await _delivered_by(pay, purchase.shop)
    assert (await pay.release(second.payment["id"])).status_code == 200
    netted = await balance_of(pay.api, finance, dealer_id)
    assert (netted["payable"], netted["receivable"], netted["available"]) == (
        58_900, 9_076, 58_900 - 9_076)
    response = await pay_out(pay.api, finance, dealer_id)
    assert response.status_code == 201, response.text
    payout = await settled(pay.api, finance, response.json()["data"]["id"])
    assert payout["status"] == "paid" and payout["amount"] == 58_900 - 9_076
    after = await balance_of(pay.api, finance, dealer_id)
    assert (after["payable"], after["receivable"], after["available"]) == (0, 0, 0)
    assert any(e["account"] == accounts.receivable(dealer_id) and e["amount"] == 9_076
               for e in after["entries"])
    report = await pay.ledger_is_valid()
    assert report["receivablesOwed"] == {}


async def _delivered_by(pay: Payments, shop: order_factories.Shop) -> Purchase:
    """Another sale of the same dealer, paid and delivered."""
    product = await order_factories.part(pay.api, shop, b2c=60_000, stock=10)
    buyer = await pay.api.customer()
    order = await order_factories.placed(pay.api, buyer, (product["id"], 1))
    started = await pay.start(buyer, order["id"])
    assert started.status_code == 201, started.text
    purchase = Purchase(shop, buyer, order, started.json()["data"])
    assert (await pay.checkout(purchase, deliver_webhook=False)).status_code == 200
    verified = await pay.verify(purchase)
    assert verified.status_code == 200, verified.text
    purchase.payment = verified.json()["data"]
    for account, action, extra in (
        (shop.account, "pack", {}),
        (shop.account, "ship", {"carrier": "BlueDart", "trackingNumber": "BD123456"}),
        (buyer, "deliver", {}),
    ):
        moved = await order_factories.move(pay.api, account, order["id"], action, **extra)
        assert moved.status_code == 200, moved.text
    return purchase


async def test_refund_partly_covered_by_the_payable_owes_only_the_rest(pay: Payments):
    purchase, _ = await _released(pay)
    payment_id, dealer_id = purchase.payment["id"], purchase.shop.dealer_id
    finance = await pay.finance()
    registered = await register_account(pay.api, purchase.shop.account)
    await verify_account(pay.api, finance, registered.json()["data"]["id"])
    sent = await pay_out(pay.api, finance, dealer_id, 50_000)
    assert sent.status_code == 201, sent.text
    assert (await settled(pay.api, finance, sent.json()["data"]["id"]))["status"] == "paid"

    refund = await _refund(pay, payment_id, 64_900)

    # Dealer part 58,900: 8,900 left in its payable, 50,000 owed.
    assert (refund["platformPart"], refund["receivablePart"]) == (6_000, 50_000)
    shown = await balance_of(pay.api, finance, dealer_id)
    assert (shown["payable"], shown["receivable"], shown["available"]) == (0, 50_000, 0)
    report = await pay.ledger_is_valid()
    assert report["receivablesOwed"] == {dealer_id: 50_000}


async def test_failed_refund_after_payout_cancels_the_debt_it_made(pay: Payments):
    purchase, _ = await _released(pay)
    payment_id, dealer_id = purchase.payment["id"], purchase.shop.dealer_id
    await _paid_out_everything(pay, purchase.shop.account, dealer_id)
    revenue_before = await balance(accounts.PLATFORM_REVENUE)
    pay.live.sandbox.auto_process_refunds = False
    refund = await _refund(pay, payment_id, 10_000)
    assert refund["status"] == "pending"
    assert await balance(accounts.refund_in_flight(payment_id)) == 10_000
    await pay.ledger_is_valid()

    failed = await pay.sandbox("POST", f"/refunds/{refund['gatewayRefundId']}/settle",
                               json={"outcome": "failed"})
    assert failed.status_code == 200

    async def stored() -> Refund | None:
        return await Refund.get(refund["id"])

    await eventually(stored, lambda r: r is not None and r.status.value == "failed")
    assert await balance(accounts.receivable(dealer_id)) == 0
    assert await balance(accounts.PLATFORM_REVENUE) == revenue_before
    assert await balance(accounts.refund_in_flight(payment_id)) == 0
    payment = await pay.payment(payment_id)
    assert payment["amountRefunded"] == 0 and payment["status"] == "captured"
    await pay.ledger_is_valid()
