"""Starting a call: the two parties of a job ring each other, one live call per job."""

import asyncio

from pymongo.asynchronous.database import AsyncDatabase

from tests.calls.factories import call_doc, live_calls, order_job, repair_job, start, started
from tests.helpers import Api, assert_error


async def test_customer_rings_the_technician_of_their_repair(api: Api, mongo_db: AsyncDatabase):
    job = await repair_job(api)

    response = await start(api, job.customer, job.id, "video")

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["success"] is True and body["traceId"]
    call = body["data"]
    assert call["id"].startswith("call_")
    assert (call["jobId"], call["type"], call["callerId"], call["calleeId"], call["status"]) == (
        job.id, "video", job.customer.id, job.provider.id, "ringing")
    assert call["answeredAt"] is None and call["endedAt"] is None and call["createdAt"]
    doc = await call_doc(mongo_db, call["id"])
    assert doc["status"] == "ringing" and doc["live"] is True
    assert (doc["ring_expires_at"] - doc["created_at"]).total_seconds() == 45
    admin = await api.root_admin()
    [entry] = await api.audited(admin, "call.started", call["id"])
    assert entry["actorId"] == job.customer.id
    assert entry["metadata"]["calleeId"] == job.provider.id


async def test_technician_rings_the_customer(api: Api, mongo_db: AsyncDatabase):
    job = await repair_job(api)

    call = await started(api, job.provider, job.id, "audio")

    assert (call["callerId"], call["calleeId"], call["type"]) == (
        job.provider.id, job.customer.id, "audio")
    assert (await call_doc(mongo_db, call["id"]))["caller_id"] == job.provider.id


async def test_buyer_rings_the_dealer_of_their_order(api: Api, mongo_db: AsyncDatabase):
    job = await order_job(api)

    call = await started(api, job.customer, job.id)

    assert (call["callerId"], call["calleeId"]) == (job.customer.id, job.provider.id)
    assert (await call_doc(mongo_db, call["id"]))["job_kind"] == "order"


async def test_admin_takes_part_in_the_job_but_may_not_call(api: Api, mongo_db: AsyncDatabase):
    job = await repair_job(api)
    admin = await api.root_admin()

    body = assert_error(await start(api, admin, job.id), 403)

    assert "parties" in body["message"]
    assert await mongo_db.calls.count_documents({}) == 0


async def test_stranger_and_unknown_job_are_404(api: Api, mongo_db: AsyncDatabase):
    job = await repair_job(api)
    stranger = await api.customer()

    assert_error(await start(api, stranger, job.id), 404)
    assert_error(await start(api, job.customer, "rep_000000000000000000000000"), 404)
    assert_error(await start(api, job.customer, "nonsense"), 404)
    assert await mongo_db.calls.count_documents({}) == 0


async def test_repair_without_a_technician_has_no_one_to_call(api: Api, mongo_db: AsyncDatabase):
    job = await repair_job(api, technician=False)

    assert_error(await start(api, job.customer, job.id), 409)
    assert await mongo_db.calls.count_documents({}) == 0


async def test_bad_type_and_unknown_fields_are_422(api: Api, mongo_db: AsyncDatabase):
    job = await repair_job(api)

    for body in ({"jobId": job.id, "type": "fax"}, {"jobId": job.id, "type": "audio", "x": 1},
                 {"type": "audio"}):
        response = await api.client.post("/api/calls", json=body, headers=job.customer.headers)
        assert_error(response, 422)
    assert_error(await api.client.post("/api/calls", json={"jobId": job.id, "type": "audio"}),
                 401)
    assert await mongo_db.calls.count_documents({}) == 0


async def test_a_job_has_one_live_call(api: Api, mongo_db: AsyncDatabase):
    job = await repair_job(api)
    first = await started(api, job.customer, job.id)

    body = assert_error(await start(api, job.provider, job.id), 409)

    assert body["data"]["code"] == "CALL_IN_PROGRESS" and body["data"]["callId"] == first["id"]
    assert [doc["_id"] for doc in await live_calls(mongo_db, job.id)] == [first["id"]]


async def test_two_concurrent_starts_give_one_call(api: Api, mongo_db: AsyncDatabase):
    job = await repair_job(api)

    responses = await asyncio.gather(*(start(api, caller, job.id)
                                       for caller in (job.customer, job.provider) * 3))

    codes = sorted(response.status_code for response in responses)
    assert codes == [201, 409, 409, 409, 409, 409], [r.text for r in responses]
    winner = next(r.json()["data"] for r in responses if r.status_code == 201)
    assert [doc["_id"] for doc in await live_calls(mongo_db, job.id)] == [winner["id"]]
    assert await mongo_db.calls.count_documents({"job_id": job.id}) == 1


async def test_an_ended_call_frees_the_job_for_the_next(api: Api, mongo_db: AsyncDatabase):
    job = await repair_job(api)
    first = await started(api, job.customer, job.id)
    cancel = await api.client.patch(f"/api/calls/{first['id']}/status",
                                    json={"action": "cancel"}, headers=job.customer.headers)
    assert cancel.status_code == 200, cancel.text

    second = await started(api, job.provider, job.id)

    assert second["id"] != first["id"]
    assert [doc["_id"] for doc in await live_calls(mongo_db, job.id)] == [second["id"]]
