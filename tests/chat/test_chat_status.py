"""A chat's status: admins open, close and lock it; it closes by itself CHAT_CLOSE_AFTER_DAYS
after its job finished; opening a dispute of the order locks it. Only an open chat takes
messages (409 CHAT_CLOSED, over REST and in the ack)."""

from datetime import timedelta

from app.core import clock
from app.repairs.models import RepairStatus
from tests.chat.factories import (
    chat_client,
    client_message_id,
    error_code,
    live_api,
    ok_data,
    repair_people,
)
from tests.helpers import assert_error, eventually
from tests.live import LiveServer


async def post(api, account, job_id: str, text: str = "Hello"):
    return await api.client.post(f"/api/chat/{job_id}/messages",
                                 json={"text": text, "clientMessageId": client_message_id()},
                                 headers=account.headers)


async def test_an_admin_locks_and_reopens_a_chat_audited_and_announced(live_server: LiveServer,
                                                                        mongo_db):
    async with live_api(live_server) as api:
        people = await repair_people(api)
        url = f"/api/chat/{people.job_id}/status"
        lock = {"status": "locked", "reason": "Abusive language"}
        async with (chat_client(live_server, people.customer) as customer,
                    chat_client(live_server, people.technician) as technician):
            for member in (customer, technician):
                ok_data(await member.join(people.job_id))
            cmid = client_message_id()
            before = ok_data(await customer.send(people.job_id, "before", cmid))
            assert await technician.next() == before
            by_customer = await api.client.patch(url, json=lock, headers=people.customer.headers)
            locked = await api.client.patch(url, json=lock, headers=people.admin.headers)
            announced = await technician.next("chat:status")
            ack = await customer.send(people.job_id, "hello?")
            retried = await customer.send(people.job_id, "before", cmid)
            refused = await post(api, people.technician, people.job_id)
            twice = await api.client.patch(url, json=lock, headers=people.admin.headers)
            reopened = await api.client.patch(url, json={"status": "open", "reason": "Apologised"},
                                              headers=people.admin.headers)
            assert (await customer.next("chat:status"))["status"] == "locked"
            assert (await customer.next("chat:status"))["status"] == "open"
            ok_data(await customer.send(people.job_id, "sorry"))
        audit = await api.audited(await api.admin("compliance"), "chat.locked", people.job_id)

    assert_error(by_customer, 403)
    assert locked.status_code == 200, locked.text
    assert locked.json()["data"]["status"] == "locked" == announced["status"]
    assert announced["statusReason"] == "Abusive language" and announced["jobId"] == people.job_id
    assert error_code(ack) == "CHAT_CLOSED"
    assert ok_data(retried) == before  # stored before the lock: a retry still gets it
    body = assert_error(refused, 409)
    assert body["data"]["code"] == "CHAT_CLOSED" and body["data"]["status"] == "locked"
    assert assert_error(twice, 409)["data"] == {"status": "locked"}
    assert reopened.status_code == 200 and reopened.json()["data"]["status"] == "open"
    assert audit[0]["reason"] == "Abusive language" and audit[0]["actorId"] == people.admin.id
    assert audit[0]["changes"]["status"] == {"from": "open", "to": "locked"}
    assert (await mongo_db.chats.find_one({"_id": people.job_id}))["status"] == "open"
    texts = [m["text"] for m in await mongo_db.chat_messages.find({}).sort("created_at", 1).to_list()]
    assert texts == ["before", "sorry"]


async def test_the_chat_closes_by_itself_days_after_the_job_finished(live_server: LiveServer,
                                                                     mongo_db):
    days = live_server.config.chat.close_after_days
    async with live_api(live_server) as api:
        people = await repair_people(api, status=RepairStatus.COMPLETED,
                                     completed_at=clock.utcnow())
        async with chat_client(live_server, people.customer) as customer:
            ok_data(await customer.join(people.job_id))
            clock.advance(timedelta(days=days) - timedelta(minutes=1))
            ok_data(await customer.send(people.job_id, "Thanks, all good"))  # not yet

            clock.advance(timedelta(minutes=2))
            job = next(j for j in live_server.fastapi.state.jobs.jobs if j.name == "chat-auto-close")
            job.wake.set()

            announced = await customer.next("chat:status")
            refused = await post(api, people.customer, people.job_id, "one more thing")
        audit = await api.audited(await api.admin("compliance"), "chat.closed", people.job_id)

    assert announced["status"] == "closed" and f"{days} day(s)" in announced["statusReason"]
    assert assert_error(refused, 409)["data"]["code"] == "CHAT_CLOSED"
    assert audit[0]["actorId"] == "system"
    chat = await mongo_db.chats.find_one({"_id": people.job_id})
    assert chat["status"] == "closed" and chat["status_by"] == "system"
    assert await mongo_db.chat_messages.count_documents({}) == 1


async def test_a_chat_due_to_close_refuses_a_post_before_the_job_runs(live_server: LiveServer,
                                                                      mongo_db):
    async with live_api(live_server) as api:
        people = await repair_people(api, status=RepairStatus.COMPLETED,
                                     completed_at=clock.utcnow() - timedelta(days=30))

        refused = await post(api, people.technician, people.job_id)

    assert assert_error(refused, 409)["data"]["status"] == "closed"
    assert (await mongo_db.chats.find_one({"_id": people.job_id}))["status"] == "closed"
    assert await mongo_db.chat_messages.count_documents({}) == 0


async def test_opening_a_dispute_locks_the_orders_chat(live_server: LiveServer, pay, mongo_db):
    purchase = await pay.paid()
    order_id = purchase.order["id"]
    async with chat_client(live_server, purchase.shop.account) as dealer:
        ok_data(await dealer.join(order_id))
        ok_data(await dealer.send(order_id, "Dispatching tomorrow"))

        opened = await pay.client.post(
            "/api/disputes", headers=purchase.buyer.headers,
            json={"orderId": order_id, "reason": "not_delivered",
                  "details": "Nothing arrived after a week of waiting"})

        assert opened.status_code == 201, opened.text
        announced = await dealer.next("chat:status")
        ack = await dealer.send(order_id, "Let us talk")
    refused = await post(pay.api, purchase.buyer, order_id)

    assert announced["status"] == "locked" and "dispute" in announced["statusReason"]
    assert error_code(ack) == "CHAT_CLOSED"
    assert assert_error(refused, 409)["data"]["code"] == "CHAT_CLOSED"

    async def chat():
        return await mongo_db.chats.find_one({"_id": order_id})

    locked = await eventually(chat, lambda doc: doc["status"] == "locked")
    assert locked["status_by"] == "system"
    assert await mongo_db.chat_messages.count_documents({"job_id": order_id}) == 1
