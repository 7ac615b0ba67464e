"""Unique keys a document holds only while a state lasts: any number of documents outside the
state (key unset, or written as null) coexist, while two holding the same key never do."""

import pytest
from pymongo.errors import DuplicateKeyError

from app.alerts import service as alerts
from app.alerts.models import AlertKind
from app.audit import service as audit
from app.core.permissions import SYSTEM_ACTOR

# collection -> the field of its state-held unique key
STATE_KEYS = {
    "payments": "awaiting_capture_of",
    "disputes": "open_key",
    "alerts": "open_key",
    "refunds": "gateway_refund_id",
}
# Other unique fields of a collection, given a distinct value per document.
OTHER_UNIQUE = {"payments": "gateway_order_id"}


@pytest.mark.parametrize("collection", sorted(STATE_KEYS))
async def test_documents_outside_the_key_coexist_and_holders_stay_unique(
    app, mongo_db, collection
):
    field = STATE_KEYS[collection]
    docs = mongo_db[collection]
    indexes = await docs.index_information()
    [index] = [i for i in indexes.values() if i["key"] == [(field, 1)]]
    assert index["unique"] and "sparse" not in index
    assert index["partialFilterExpression"] == {field: {"$gt": ""}}

    def doc(doc_id: str, **key: object) -> dict[str, object]:
        other = OTHER_UNIQUE.get(collection)
        return {"_id": doc_id, **key, **({other: doc_id} if other else {})}

    await docs.insert_many([doc("null-1", **{field: None}), doc("null-2", **{field: None}),
                            doc("unset-1"), doc("unset-2"), doc("held", **{field: "k"})])
    with pytest.raises(DuplicateKeyError):
        await docs.insert_one(doc("held-again", **{field: "k"}))
    with pytest.raises(DuplicateKeyError):
        await docs.update_one({"_id": "null-1"}, {"$set": {field: "k"}})

    assert await docs.count_documents({}) == 5
    assert await docs.count_documents({field: "k"}) == 1
    assert (await docs.find_one({field: "k"}))["_id"] == "held"


async def test_two_acknowledged_alerts_of_one_subject_coexist(api, mongo_db):
    finance = await api.admin("finance")
    acknowledged = []
    for note in ("First look", "Second look"):
        alert = await alerts.raise_alert(AlertKind.PAYMENT_STUCK, "payment", "pay_same", "Stuck")
        assert alert is not None
        assert await alerts.raise_alert(AlertKind.PAYMENT_STUCK, "payment", "pay_same",
                                        "Stuck") is None  # one open at a time
        response = await api.client.patch(f"/api/admin/alerts/{alert.id}",
                                          json={"acknowledged": True, "note": note},
                                          headers=finance.headers)
        assert response.status_code == 200, response.text
        assert response.json()["data"]["acknowledgedBy"] == finance.id
        acknowledged.append(alert.id)

    stored = await mongo_db.alerts.find({"subject_id": "pay_same"}).to_list()
    assert sorted(doc["_id"] for doc in stored) == sorted(acknowledged)
    assert all("open_key" not in doc and doc["acknowledged_at"] for doc in stored)
    assert await alerts.raise_alert(AlertKind.PAYMENT_STUCK, "payment", "pay_same",
                                    "Stuck again") is not None


async def test_audit_entries_waiting_for_the_sequencer_hold_no_seq(app, mongo_db):
    """`seq` stays a unique sparse index: nothing writes `seq: null`, so the entries waiting
    for the sequencer (the field absent) never collide, and a sequenced seq is unique."""
    for subject in ("one", "two", "three"):
        await audit.record(None, actor=SYSTEM_ACTOR, action="test.pending",
                           subject_type="test", subject_id=subject)

    # The sequencer may chain some meanwhile: each entry waits without a seq, or has its own.
    written = await mongo_db.audit_entries.find({"action": "test.pending"}).to_list()
    assert len(written) == 3
    waiting = [entry for entry in written if entry.get("pending")]
    assert all("seq" not in entry for entry in waiting)
    chained = [entry["seq"] for entry in written if not entry.get("pending")]
    assert all(isinstance(seq, int) for seq in chained) and len(set(chained)) == len(chained)
    index = (await mongo_db.audit_entries.index_information())["seq_unique"]
    assert index["unique"] and index["sparse"]
    sequenced = await mongo_db.audit_entries.find_one({"seq": {"$gte": 1}}, sort=[("seq", -1)])
    top = sequenced["seq"] if sequenced else 0
    await mongo_db.audit_entries.insert_one({"_id": "aud_taken", "seq": top + 100})
    with pytest.raises(DuplicateKeyError):
        await mongo_db.audit_entries.insert_one({"_id": "aud_twice", "seq": top + 100})
