"""Two-step money moves never leave money held: a capture for an order that can no longer be
paid and its refund commit together (the reserved refund is the outbox entry the dispatch job
sends), and a refund is marked processed in the same transaction that settles it in the
ledger. Each crash window is forced by making the second step raise once."""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from app.core import clock
from app.core.config import settings
from app.payments import outcomes, refunds, tasks
from app.payments.ledger import accounts
from app.payments.ledger import service as ledger
from app.payments.models import Payment, Refund, RefundStatus
from app.payments.service import unpayable_refund_id
from tests.helpers import eventually
from tests.orders import factories as order_factories
from tests.payments.factories import Payments, Purchase, balance, escrow_of


class CrashOnce:
    """Wraps a step of our own code so that its first call raises, as a crash there would."""

    def __init__(self, real: Callable[..., Awaitable[Any]]) -> None:
        self.real, self.calls = real, 0

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("injected crash")
        return await self.real(*args, **kwargs)


async def _cancelled_before_capture(pay: Payments) -> Purchase:
    purchase = await pay.started()
    cancelled = await order_factories.move(pay.api, purchase.buyer, purchase.order["id"],
                                           "cancel", reason="Changed my mind")
    assert cancelled.status_code == 200, cancelled.text
    return purchase


async def _gateway_refunds(pay: Payments, gateway_payment_id: str) -> list[dict[str, Any]]:
    return (await pay.live.sandbox.payment_refunds(gateway_payment_id))["items"]


async def _refund_processed(refund_id: str) -> Refund:
    async def probe() -> Refund | None:
        return await Refund.get(refund_id)

    found = await eventually(probe, lambda r: r is not None and r.status is RefundStatus.PROCESSED)
    assert found is not None
    return found


async def _assert_refunded_once(pay: Payments, payment_id: str, refund_id: str) -> None:
    payment = await Payment.get(payment_id)
    assert payment is not None and payment.gateway_payment_id
    assert payment.refunds_in_flight == 0
    gateway_side = await _gateway_refunds(pay, payment.gateway_payment_id)
    assert [r["status"] for r in gateway_side] == ["processed"]
    assert await ledger.already_posted(f"refund-settled:{refund_id}") is not None
    assert await balance(accounts.refund_in_flight(payment_id)) == 0
    # The job again: nothing is left to send, and nothing is sent twice.
    assert await tasks.dispatch_pending_refunds() is False
    assert len(await _gateway_refunds(pay, payment.gateway_payment_id)) == 1
    await pay.ledger_is_valid()


async def test_capture_for_a_cancelled_order_is_refunded_by_the_job_after_a_crash(
    pay: Payments, monkeypatch: pytest.MonkeyPatch,
):
    purchase = await _cancelled_before_capture(pay)
    payment_id, amount = purchase.payment["id"], purchase.payment["amount"]
    crash = CrashOnce(refunds.dispatch_refund)
    monkeypatch.setattr(refunds, "dispatch_refund", crash)

    assert (await pay.checkout(purchase, deliver_webhook=False)).status_code == 200
    verified = await pay.verify(purchase)

    # The capture and its refund committed together before the send crashed.
    assert verified.status_code == 200, verified.text
    body = verified.json()
    assert body["success"] is True
    assert body["data"]["status"] == "refunded" and body["data"]["amountRefunded"] == amount
    refund_id = unpayable_refund_id(payment_id)
    await tasks.dispatch_pending_refunds()
    stored = await _refund_processed(refund_id)
    assert crash.calls >= 2 and stored.amount == amount
    assert stored.reason == "order was no longer payable when paid"
    assert await escrow_of(payment_id) == 0
    assert await balance(accounts.REFUNDS) == amount
    assert await pay.order_status(purchase) == "cancelled"
    await _assert_refunded_once(pay, payment_id, refund_id)


async def test_capture_and_refund_are_one_transaction_and_the_sla_job_redoes_both(
    pay: Payments, monkeypatch: pytest.MonkeyPatch,
):
    purchase = await _cancelled_before_capture(pay)
    payment_id, amount = purchase.payment["id"], purchase.payment["amount"]
    crash = CrashOnce(refunds.reserve_refund)
    monkeypatch.setattr(refunds, "reserve_refund", crash)
    assert (await pay.checkout(purchase, deliver_webhook=False)).status_code == 200

    failed = await pay.verify(purchase)

    # The refund step crashed, so the capture rolled back with it: nothing is held.
    assert failed.status_code == 500
    assert failed.json()["success"] is False
    payment = await Payment.get(payment_id)
    assert payment is not None
    assert payment.status.value == "created" and payment.amount_captured == 0
    assert await escrow_of(payment_id) == 0
    assert await Refund.find({"payment_id": payment_id}).count() == 0

    clock.advance(timedelta(minutes=settings().escrow.payment_stuck_after_minutes + 1))
    await tasks.enforce_payment_slas()

    stored = await _refund_processed(unpayable_refund_id(payment_id))
    assert crash.calls >= 2 and stored.amount == amount
    captured = await pay.payment(payment_id)
    assert captured["status"] == "refunded" and captured["amountCaptured"] == amount
    assert await Refund.find({"payment_id": payment_id}).count() == 1
    await _assert_refunded_once(pay, payment_id, stored.id)


async def test_refund_marked_processed_only_with_its_ledger_settlement(
    pay: Payments, monkeypatch: pytest.MonkeyPatch,
):
    purchase = await pay.paid()
    payment_id = purchase.payment["id"]
    crash = CrashOnce(outcomes.settle_in_ledger)
    monkeypatch.setattr(outcomes, "settle_in_ledger", crash)

    response = await pay.refund(payment_id, 10_000)

    # The first settlement crashes: usually the refund's own answer from the gateway (500), but
    # the sandbox's refund.processed webhook races it and may be the one that crashes (then the
    # answer settles it and the refund is created).
    assert response.status_code in (201, 500), response.text
    assert response.json()["success"] is (response.status_code == 201)
    # Whichever comes next (the dispatch job resending under the same key, or the gateway's
    # refund.processed webhook) settles it, once, status and ledger together.
    await tasks.dispatch_pending_refunds()
    stored = await _refund_processed(
        (await Refund.find_one({"payment_id": payment_id})).id  # type: ignore[union-attr]
    )
    assert crash.calls >= 2
    assert await Refund.find({"payment_id": payment_id}).count() == 1
    assert await balance(accounts.REFUNDS) == 10_000
    assert await escrow_of(payment_id) == purchase.payment["amount"] - 10_000
    assert (await pay.payment(payment_id))["status"] == "partially_refunded"
    await _assert_refunded_once(pay, payment_id, stored.id)
