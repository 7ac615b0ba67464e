"""Disputes resolved while other refunds on the platform still wait for their gateway id, in a
database an older version created (with its unique *sparse* indexes): the black-box run that
answered 500, reproduced in one database."""

from typing import Any

import pytest
from pymongo import ASCENDING, MongoClient

from app.audit.models import AuditEntry
from app.core.config import Settings
from app.payments import tasks as payment_tasks
from app.payments.models import Refund, RefundStatus
from tests.disputes.factories import Disputes
from tests.orders import factories as order_factories
from tests.payments.factories import Payments, escrow_of

# The unique sparse indexes of earlier versions: each also held explicit nulls.
OLD_SPARSE_INDEXES = {
    "refunds": ("gateway_refund", "gateway_refund_id"),
    "payments": ("one_open_payment_per_payable", "awaiting_capture_of"),
    "disputes": ("one_open_per_order", "open_key"),
    "alerts": ("one_open", "open_key"),
}


@pytest.fixture
def config(config: Settings) -> Settings:
    """No background jobs (a refund set aside by a cancellation stays unsent, as when the
    dispatch job has not reached it yet), in a database an older version created."""
    client: MongoClient[dict[str, Any]] = MongoClient(config.database.mongodb_url)
    try:
        db = client[config.database.mongodb_db]
        for collection, (name, field) in OLD_SPARSE_INDEXES.items():
            db[collection].create_index([(field, ASCENDING)], name=name, unique=True, sparse=True)
    finally:
        client.close()
    return config.model_copy(update={"background_tasks_enabled": False})


async def test_resolving_while_another_refund_awaits_its_gateway_id_succeeds(
    pay: Payments, mongo_db
):
    disputes = Disputes(pay)
    for collection, (old_name, _) in OLD_SPARSE_INDEXES.items():
        assert old_name not in await mongo_db[collection].index_information(), collection
    cancelled = await pay.paid()
    response = await order_factories.move(pay.api, cancelled.buyer, cancelled.order["id"],
                                          "cancel", reason="Found it cheaper")
    assert response.status_code == 200, response.text
    waiting = await mongo_db.refunds.find_one({"payment_id": cancelled.payment["id"]})
    assert waiting["status"] == "pending" and waiting["gateway_refund_id"] is None

    refunded = await pay.delivered()
    refund_dispute = await disputes.opened(refunded)
    split = await pay.delivered()
    split_dispute = await disputes.opened(split)

    whole = await disputes.resolve(refund_dispute["id"], "refund_buyer")
    part = await disputes.resolve(split_dispute["id"], "split", 20_000)

    assert whole.status_code == 200, whole.text
    assert whole.json()["success"] is True
    assert whole.json()["data"]["resolution"]["refundedAmount"] == refunded.payment["amount"]
    assert part.status_code == 200, part.text
    assert part.json()["data"]["resolution"]["refundedAmount"] == 20_000
    # Two resolved disputes at once, neither holding the one-open-per-order key.
    resolved = await mongo_db.disputes.find({"status": "resolved"}).to_list()
    assert len(resolved) == 2 and all(d.get("open_key") is None for d in resolved)
    assert await escrow_of(refunded.payment["id"]) == 0
    assert (await Refund.find_one({"_id": waiting["_id"]})).gateway_refund_id is None

    assert await payment_tasks.dispatch_pending_refunds() is False

    sent = await Refund.find_one({"_id": waiting["_id"]})
    assert sent.status is RefundStatus.PROCESSED and sent.gateway_refund_id
    assert (await pay.payment(cancelled.payment["id"]))["status"] == "refunded"
    # Nothing sequenced the audit trail here: its entries all wait, none holding a seq.
    pending = await AuditEntry.get_pymongo_collection().find({"pending": True}).to_list()
    assert len(pending) >= 2 and all("seq" not in entry for entry in pending)
    await pay.ledger_is_valid()
