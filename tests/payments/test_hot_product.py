"""Many buyers of one product at once: the capture no longer holds the product's stock, the
stock is sold after it, and a sale whose stock commit was interrupted is caught up."""

import asyncio
from datetime import timedelta

from app.core import clock
from app.core.database import TransactionCounter, transaction
from app.orders import service as orders_service
from app.orders import tasks as order_tasks
from tests.orders import factories as order_factories
from tests.payments.factories import Payments, Purchase, idem

BUYERS = 8


async def _buy(pay: Payments, product_id: str) -> Purchase:
    buyer = await pay.api.customer()
    order = await order_factories.placed(pay.api, buyer, (product_id, 1))
    started = await pay.start(buyer, order["id"], **idem())
    assert started.status_code == 201, started.text
    return Purchase(None, buyer, order, started.json()["data"])  # type: ignore[arg-type]


async def test_concurrent_buyers_of_one_product_are_captured_and_sold_exactly(pay: Payments,
                                                                              mongo_db):
    shop = await order_factories.shop(pay.api)
    product = await order_factories.part(pay.api, shop, b2c=60_000, stock=BUYERS + 2)
    purchases = [await _buy(pay, product["id"]) for _ in range(BUYERS)]
    for purchase in purchases:
        assert (await pay.checkout(purchase, deliver_webhook=False)).status_code == 200
    captures_before = await mongo_db.audit_entries.count_documents({"action": "payment.captured"})

    attempts = TransactionCounter.attempts
    answers = await asyncio.gather(*(pay.verify(purchase) for purchase in purchases))

    assert [a.status_code for a in answers] == [200] * BUYERS, [a.text for a in answers]
    assert all(a.json()["success"] and a.json()["data"]["status"] == "captured" for a in answers)
    # The answer is the payment as stored, though it is no longer read back after capture.
    for answer in answers:
        stored = await pay.payment(answer.json()["data"]["id"])
        assert answer.json()["data"] == stored
    # 2 transactions per purchase: the capture, then the stock; a conflict on the product's
    # inventory reruns only the small second one (each rerun is one more attempt).
    assert TransactionCounter.attempts - attempts >= 2 * BUYERS
    assert await order_factories.stock(mongo_db, product["id"]) == {
        "quantity": 2, "reserved": 0, "available": 2,
    }
    for purchase in purchases:
        doc = await order_factories.order_doc(mongo_db, purchase.order["id"])
        assert (doc["status"], doc["stock_state"]) == ("paid", "committed")
        entries = [e async for e in mongo_db.audit_entries.find(
            {"subject_id": purchase.order["id"]}).sort("at", 1)]
        assert [e["action"] for e in entries] == [
            "order.place", "order.reservation_extended", "order.pay", "order.stock_committed",
        ]
        assert entries[-1]["changes"]["stockState"] == {"from": "reserved", "to": "committed"}
    assert await mongo_db.audit_entries.count_documents(
        {"action": "payment.captured"}) == captures_before + BUYERS
    await pay.ledger_is_valid()


async def test_a_paid_order_keeps_its_units_reserved_until_its_stock_is_committed(
    api, mongo_db
):
    seller = await order_factories.shop(api)
    screen = await order_factories.part(api, seller, b2c=60_000, stock=5)
    buyer = await api.customer()
    order = await order_factories.placed(api, buyer, (screen["id"], 2))

    # The capture's transaction commits, then the process dies before the stock is sold.
    await transaction(lambda s: orders_service.mark_paid(s, order["id"], "pay_interrupted"))

    doc = await order_factories.order_doc(mongo_db, order["id"])
    assert (doc["status"], doc["stock_state"]) == ("paid", "reserved")
    assert await order_factories.stock(mongo_db, screen["id"]) == {
        "quantity": 5, "reserved": 2, "available": 3,
    }
    # The reconciler counts the paid order's units as held: it releases none of them.
    clock.advance(timedelta(hours=1))
    await order_tasks.reconcile_reservations()
    assert await order_factories.stock(mongo_db, screen["id"]) == {
        "quantity": 3, "reserved": 0, "available": 3,
    }
    doc = await order_factories.order_doc(mongo_db, order["id"])
    assert (doc["status"], doc["stock_state"]) == ("paid", "committed")
    # Done once: a second commit changes nothing.
    assert await orders_service.commit_sold_stock(order["id"]) is False
    assert await order_factories.stock(mongo_db, screen["id"]) == {
        "quantity": 3, "reserved": 0, "available": 3,
    }


async def test_a_full_refund_before_the_stock_was_committed_releases_it(api, mongo_db):
    seller = await order_factories.shop(api)
    screen = await order_factories.part(api, seller, b2c=60_000, stock=5)
    buyer = await api.customer()
    order = await order_factories.placed(api, buyer, (screen["id"], 2))
    await transaction(lambda s: orders_service.mark_paid(s, order["id"], "pay_interrupted"))

    cancelled = await transaction(
        lambda s: orders_service.cancel_after_full_refund(s, order["id"]))

    assert cancelled is not None and cancelled.status.value == "cancelled"
    doc = await order_factories.order_doc(mongo_db, order["id"])
    assert (doc["status"], doc["stock_state"]) == ("cancelled", "released")
    got = await order_factories.get(api, buyer, order["id"])
    assert got.status_code == 200 and got.json()["data"]["stockState"] == "released"
    assert await order_factories.stock(mongo_db, screen["id"]) == {
        "quantity": 5, "reserved": 0, "available": 5,
    }
    # The stock commit that comes late finds nothing to sell.
    assert await orders_service.commit_sold_stock(order["id"]) is False
    assert await order_factories.stock(mongo_db, screen["id"]) == {
        "quantity": 5, "reserved": 0, "available": 5,
    }
