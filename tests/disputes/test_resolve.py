"""Resolving a dispute: refund the buyer, release to the dealer or split — exactly once."""

import asyncio

import pytest

from app.disputes import resolution as disputes_resolution
from app.payments.commission import commission_of
from app.payments.ledger import accounts
from app.payments.models import Refund, RefundStatus
from tests.disputes.factories import Disputes
from tests.helpers import assert_error, field_errors
from tests.payments.factories import Payments, Purchase, balance, escrow_of


async def disputed(pay: Payments, disputes: Disputes, b2c: int = 60_000) -> tuple[Purchase, dict]:
    purchase = await pay.delivered(b2c)
    return purchase, await disputes.opened(purchase)


async def test_refund_buyer_refunds_everything_held(pay: Payments, disputes: Disputes):
    purchase, dispute = await disputed(pay, disputes)
    payment_id, amount = purchase.payment["id"], purchase.payment["amount"]

    response = await disputes.resolve(dispute["id"], "refund_buyer", note="Courier lost it")

    assert response.status_code == 200, response.text
    resolved = response.json()["data"]
    assert resolved["status"] == "resolved" and resolved["allowedActions"] == []
    outcome = resolved["resolution"]
    assert outcome["resolution"] == "refund_buyer" and outcome["note"] == "Courier lost it"
    assert outcome["refundedAmount"] == amount and outcome["releasedAmount"] == 0
    assert outcome["resolvedAt"] and outcome["decidedBy"] == (await disputes.lead()).id
    refund = await Refund.get(outcome["refundId"])
    assert refund is not None and refund.amount == amount
    assert refund.status is RefundStatus.PROCESSED and refund.gateway_refund_id
    payment = await pay.payment(payment_id)
    assert payment["status"] == "refunded" and payment["escrowStatus"] == "refunded"
    assert payment["amountRefunded"] == amount and payment["amountReleased"] == 0
    assert await escrow_of(payment_id) == 0
    assert await balance(accounts.REFUNDS) == amount
    assert await balance(accounts.payable(purchase.shop.dealer_id)) == 0
    assert await pay.order_status(purchase) == "delivered"
    await pay.ledger_is_valid()

    entry = (await disputes.audited("dispute.resolved", dispute["id"]))[0]
    assert entry["reason"] == "Courier lost it"
    assert entry["metadata"]["resolution"] == "refund_buyer"
    assert entry["metadata"]["buyerAmount"] == amount
    assert entry["metadata"]["releasedAmount"] == 0
    assert (await disputes.audited("dispute.resolution_started", dispute["id"]))[0][
        "changes"]["status"] == {"from": "open", "to": "resolving"}
    assert (await disputes.audited("payment.refunded", payment_id))[0]["metadata"][
        "amount"] == amount


async def test_release_to_dealer_pays_the_dealer_minus_commission(
    pay: Payments, disputes: Disputes
):
    purchase, dispute = await disputed(pay, disputes)
    payment_id, amount = purchase.payment["id"], purchase.payment["amount"]
    rate = purchase.payment["commissionBreakdown"]["rateBps"]

    response = await disputes.resolve(dispute["id"], "release_to_dealer",
                                      note="Delivery photo shows an intact screen")

    assert response.status_code == 200, response.text
    outcome = response.json()["data"]["resolution"]
    payment = await pay.payment(payment_id)
    split = payment["commissionBreakdown"]
    assert split["commission"] == commission_of(purchase.order["subtotal"], rate)
    assert split["platformShare"] == split["commission"] + purchase.order["serviceFee"]
    assert split["dealerShare"] == amount - split["platformShare"]
    assert payment["escrowStatus"] == "released" and payment["amountReleased"] == amount
    assert payment["amountRefunded"] == 0 and payment["status"] == "captured"
    assert outcome["releasedAmount"] == amount and outcome["refundedAmount"] == 0
    assert outcome["dealerShare"] == split["dealerShare"]
    assert outcome["commission"] == split["commission"]
    assert await balance(accounts.payable(purchase.shop.dealer_id)) == split["dealerShare"]
    assert await escrow_of(payment_id) == 0
    assert await pay.order_status(purchase) == "completed"
    await pay.ledger_is_valid()
    entry = (await disputes.audited("dispute.resolved", dispute["id"]))[0]
    assert entry["metadata"]["releasedAmount"] == amount
    assert entry["metadata"]["dealerShare"] == split["dealerShare"]
    released = (await disputes.audited("payment.released", payment_id))[0]
    assert released["metadata"]["via"] == "resolve_release"


async def test_split_refunds_the_buyer_part_and_releases_the_rest_with_commission_on_it(
    pay: Payments, disputes: Disputes
):
    purchase, dispute = await disputed(pay, disputes)
    payment_id, amount = purchase.payment["id"], purchase.payment["amount"]
    rate = purchase.payment["commissionBreakdown"]["rateBps"]
    buyer_amount = 12_345

    response = await disputes.resolve(dispute["id"], "split", buyer_amount,
                                      note="Minor scuffs: partial refund agreed")

    assert response.status_code == 200, response.text
    outcome = response.json()["data"]["resolution"]
    payment = await pay.payment(payment_id)
    split = payment["commissionBreakdown"]
    assert split["commission"] == commission_of(purchase.order["subtotal"] - buyer_amount, rate)
    assert split["dealerShare"] + split["platformShare"] == amount - buyer_amount
    assert payment["amountRefunded"] == buyer_amount and payment["status"] == "partially_refunded"
    assert payment["amountReleased"] == amount - buyer_amount
    assert payment["escrowStatus"] == "released"
    assert outcome["refundedAmount"] == buyer_amount
    assert outcome["releasedAmount"] == amount - buyer_amount
    assert await balance(accounts.REFUNDS) == buyer_amount
    assert await balance(accounts.payable(purchase.shop.dealer_id)) == split["dealerShare"]
    assert await balance(accounts.PLATFORM_REVENUE) == split["platformShare"]
    assert await escrow_of(payment_id) == 0
    assert await pay.order_status(purchase) == "completed"
    await pay.ledger_is_valid()
    entry = (await disputes.audited("dispute.resolved", dispute["id"]))[0]
    assert entry["metadata"]["buyerAmount"] == buyer_amount
    assert entry["metadata"]["releasedAmount"] == amount - buyer_amount
    assert entry["metadata"]["commission"] == split["commission"]


async def test_refund_buyer_with_a_partial_amount_releases_the_rest_to_the_dealer(
    pay: Payments, disputes: Disputes
):
    purchase, dispute = await disputed(pay, disputes)
    payment_id, amount = purchase.payment["id"], purchase.payment["amount"]

    response = await disputes.resolve(dispute["id"], "refund_buyer", 5_000,
                                      admin=await pay.api.root_admin())

    assert response.status_code == 200, response.text
    payment = await pay.payment(payment_id)
    assert payment["amountRefunded"] == 5_000
    assert payment["amountReleased"] == amount - 5_000
    assert payment["escrowStatus"] == "released"
    assert await balance(accounts.payable(purchase.shop.dealer_id)) == \
        payment["commissionBreakdown"]["dealerShare"]
    await pay.ledger_is_valid()


async def test_amounts_that_do_not_fit_the_escrow_are_422_and_change_nothing(
    pay: Payments, disputes: Disputes
):
    purchase, dispute = await disputed(pay, disputes)
    payment_id, amount = purchase.payment["id"], purchase.payment["amount"]

    for resolution, buyer_amount in (("refund_buyer", amount + 1), ("split", amount + 1),
                                     ("split", amount)):
        response = await disputes.resolve(dispute["id"], resolution, buyer_amount)
        body = assert_error(response, 422)
        assert body["data"]["held"] == amount, body
    for bad in (0, -100, 10.5, "100", True):
        assert field_errors(await disputes.resolve(dispute["id"], "split", bad)) == {
            "body.buyerAmount"}
    assert field_errors(await disputes.resolve(dispute["id"], "release_to_dealer", 100)) == {
        "body"}
    assert field_errors(await disputes.resolve(dispute["id"], "split")) == {"body"}
    assert field_errors(await disputes.patch(
        dispute["id"], {"resolution": "refund_buyer"}, **{"Idempotency-Key": "no-note-key-1"}
    )) == {"body"}
    assert field_errors(await disputes.resolve(dispute["id"], "give_it_away")) == {
        "body.resolution"}

    current = (await disputes.get(dispute["id"], purchase.buyer)).json()["data"]
    assert current["status"] == "open" and current["resolution"] is None
    payment = await pay.payment(payment_id)
    assert payment["escrowStatus"] == "disputed"
    assert payment["amountRefunded"] == 0 and payment["amountReleased"] == 0
    assert await escrow_of(payment_id) == amount
    await pay.ledger_is_valid()


async def test_resolving_twice_is_409_and_a_replay_returns_the_first_result(
    pay: Payments, disputes: Disputes
):
    purchase, dispute = await disputed(pay, disputes)
    key = {"Idempotency-Key": "resolve-key-0001"}
    first = await disputes.resolve(dispute["id"], "split", 10_000, **key)
    assert first.status_code == 200, first.text

    replay = await disputes.resolve(dispute["id"], "split", 10_000, **key)
    other_body = await disputes.resolve(dispute["id"], "refund_buyer", **key)
    again = await disputes.resolve(dispute["id"], "split", 10_000)
    other_decision = await disputes.resolve(dispute["id"], "release_to_dealer")

    assert replay.status_code == 200 and replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["data"] == first.json()["data"]
    assert_error(other_body, 422)
    assert_error(again, 409)
    assert_error(other_decision, 409)
    payment = await pay.payment(purchase.payment["id"])
    assert payment["amountRefunded"] == 10_000
    assert payment["amountReleased"] == purchase.payment["amount"] - 10_000
    assert len(await disputes.audited("dispute.resolved", dispute["id"])) == 1
    await pay.ledger_is_valid()


async def test_resolving_needs_an_idempotency_key(pay: Payments, disputes: Disputes):
    _, dispute = await disputed(pay, disputes)

    lead = await disputes.lead()
    response = await disputes.client.patch(
        f"/api/admin/disputes/{dispute['id']}",
        json={"resolution": "refund_buyer", "note": "Refund in full"}, headers=lead.headers)

    body = assert_error(response, 422)
    assert body["data"]["errors"][0]["field"] == "header.Idempotency-Key"


async def test_customers_dealers_finance_and_compliance_cannot_resolve(
    pay: Payments, disputes: Disputes
):
    purchase, dispute = await disputed(pay, disputes)

    for account in (purchase.buyer, purchase.shop.account, await pay.finance(),
                    await disputes.auditor()):
        assert_error(await disputes.resolve(dispute["id"], "refund_buyer", admin=account), 403)
    assert (await pay.payment(purchase.payment["id"]))["escrowStatus"] == "disputed"


async def test_a_resolved_dispute_takes_no_more_notes(pay: Payments, disputes: Disputes):
    purchase, dispute = await disputed(pay, disputes)
    assert (await disputes.resolve(dispute["id"], "release_to_dealer")).status_code == 200

    assert_error(await disputes.note(dispute["id"], purchase.buyer, "But it was broken!"), 409)
    assert_error(await disputes.patch(dispute["id"], {"note": "Closing remark."}), 409)
    assert len((await disputes.get(dispute["id"], purchase.buyer)).json()["data"]["notes"]) == 0


async def test_an_interrupted_resolution_continues_on_retry_and_moves_money_once(
    pay: Payments, disputes: Disputes, monkeypatch: pytest.MonkeyPatch
):
    purchase, dispute = await disputed(pay, disputes)
    payment_id, amount = purchase.payment["id"], purchase.payment["amount"]
    real_release_step = disputes_resolution._release_step
    crashes = []

    async def crash_once(*args, **kwargs):
        if not crashes:
            crashes.append(True)
            raise RuntimeError("worker died after the refund")
        return await real_release_step(*args, **kwargs)

    monkeypatch.setattr(disputes_resolution, "_release_step", crash_once)
    key = {"Idempotency-Key": "resolve-crash-0001"}

    crashed = await disputes.resolve(dispute["id"], "split", 20_000, **key)

    assert crashed.status_code == 500
    halfway = (await disputes.get(dispute["id"], purchase.buyer)).json()["data"]
    assert halfway["status"] == "resolving"
    assert halfway["resolution"]["refundAmount"] == 20_000
    payment = await pay.payment(payment_id)
    assert payment["amountRefunded"] == 20_000 and payment["escrowStatus"] == "disputed"
    await pay.ledger_is_valid()
    assert_error(await disputes.resolve(dispute["id"], "refund_buyer"), 409)

    retried = await disputes.resolve(dispute["id"], "split", 20_000, **key)

    assert retried.status_code == 200, retried.text
    assert retried.json()["data"]["status"] == "resolved"
    payment = await pay.payment(payment_id)
    assert payment["amountRefunded"] == 20_000
    assert payment["amountReleased"] == amount - 20_000
    assert await balance(accounts.REFUNDS) == 20_000
    assert len(await Refund.find({"payment_id": payment_id}).to_list()) == 1
    await pay.ledger_is_valid()


async def test_concurrent_resolutions_move_the_money_once(pay: Payments, disputes: Disputes):
    purchase, dispute = await disputed(pay, disputes)
    payment_id, amount = purchase.payment["id"], purchase.payment["amount"]
    admins = [await disputes.lead(), await pay.api.admin("ops"), await pay.api.root_admin()]

    responses = await asyncio.gather(*(
        disputes.resolve(dispute["id"], "split", 15_000, admin=admins[i % len(admins)])
        for i in range(6)
    ))

    codes = [r.status_code for r in responses]
    assert set(codes) <= {200, 409} and 200 in codes, [r.text for r in responses]
    payment = await pay.payment(payment_id)
    assert payment["amountRefunded"] == 15_000
    assert payment["amountReleased"] == amount - 15_000
    assert await balance(accounts.REFUNDS) == 15_000
    assert await balance(accounts.payable(purchase.shop.dealer_id)) == \
        payment["commissionBreakdown"]["dealerShare"]
    assert len(await Refund.find({"payment_id": payment_id}).to_list()) == 1
    assert len(await disputes.audited("dispute.resolved", dispute["id"])) == 1
    await pay.ledger_is_valid()
