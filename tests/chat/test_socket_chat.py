"""Job chat over Socket.IO with python-socketio's AsyncClient against uvicorn on loopback:
membership, delivery to every participant, retried sends, closed chats, bad events answered
in the ack while the connection stays up."""

import pytest

from tests.chat.factories import (
    chat_client,
    client_message_id,
    error_code,
    flushed,
    live_api,
    ok_data,
    repair_people,
)
from tests.live import LiveServer
from tests.media import factories as media_factories


async def test_every_participant_receives_a_message_and_an_outsider_neither_joins_nor_hears(
    live_server: LiveServer, mongo_db
):
    async with live_api(live_server) as api:
        people = await repair_people(api)
    job = people.job_id
    async with (chat_client(live_server, people.customer) as customer,
                chat_client(live_server, people.technician) as technician,
                chat_client(live_server, people.admin) as admin,
                chat_client(live_server, people.outsider) as outsider):
        for member in (customer, technician, admin):
            joined = ok_data(await member.join(job))
            assert joined["jobId"] == job and joined["status"] == "open"
        assert error_code(await outsider.join(job)) == "NOT_FOUND"
        assert error_code(await outsider.send(job, "let me in")) == "NOT_FOUND"
        assert error_code(await outsider.call("chat:typing", {"jobId": job})) == "NOT_JOINED"

        sent = ok_data(await customer.send(job, "Screen replaced yet?"))

        for member in (customer, technician, admin):
            assert await member.next() == sent
        await flushed(live_server, outsider, people.outsider)
        assert outsider.nothing_in("chat:message") and outsider.nothing_in("chat:typing")
        assert outsider.sio.connected
    assert sent["text"] == "Screen replaced yet?" and sent["senderId"] == people.customer.id
    assert sent["senderRole"] == "customer" and sent["jobId"] == job and sent["hidden"] is False
    stored = await mongo_db.chat_messages.find({"job_id": job}).to_list()
    assert [(m["_id"], m["text"], m["sender_id"]) for m in stored] == [
        (sent["id"], "Screen replaced yet?", people.customer.id)]
    assert (await mongo_db.chats.find_one({"_id": job}))["status"] == "open"


async def test_an_order_chat_reaches_its_buyer_dealer_and_admin(live_server: LiveServer, pay,
                                                                 mongo_db):
    shop, buyer, order = await pay.order()
    admin = await pay.api.admin("compliance")
    async with (chat_client(live_server, buyer) as on_buyer,
                chat_client(live_server, shop.account) as on_dealer,
                chat_client(live_server, admin) as on_admin):
        for member in (on_buyer, on_dealer, on_admin):
            ok_data(await member.join(order["id"]))

        sent = ok_data(await on_dealer.send(order["id"], "Packed and ready"))

        for member in (on_buyer, on_dealer, on_admin):
            assert await member.next() == sent
    assert sent["senderRole"] == "dealer"
    assert await mongo_db.chat_messages.count_documents({"job_id": order["id"]}) == 1


async def test_a_retried_send_returns_the_first_message_and_is_never_delivered_twice(
    live_server: LiveServer, mongo_db
):
    async with live_api(live_server) as api:
        people = await repair_people(api)
    job, cmid = people.job_id, client_message_id()
    async with (chat_client(live_server, people.customer) as customer,
                chat_client(live_server, people.technician) as technician):
        ok_data(await technician.join(job))
        first = ok_data(await customer.send(job, "On my way", cmid))

        again = ok_data(await customer.send(job, "On my way (retry)", cmid))
        rest = await api_post(live_server, people.customer, job, {"text": "x", "clientMessageId": cmid})
        later = ok_data(await customer.send(job, "Second thought"))

        assert again == first and rest.status_code == 200
        assert rest.json()["data"] == first and rest.json()["success"] is True
        assert await technician.next() == first
        assert await technician.next() == later
    # The same clientMessageId from the other party is its own message.
    async with chat_client(live_server, people.technician) as technician:
        theirs = ok_data(await technician.send(job, "Mine", cmid))
    assert theirs["id"] != first["id"]
    assert await mongo_db.chat_messages.count_documents({"job_id": job}) == 3
    assert await mongo_db.chat_messages.count_documents(
        {"job_id": job, "client_message_id": cmid, "sender_id": people.customer.id}) == 1


async def api_post(live: LiveServer, account, job_id: str, body: dict):
    async with live_api(live) as api:
        return await api.client.post(f"/api/chat/{job_id}/messages", json=body,
                                     headers=account.headers)


@pytest.mark.parametrize("payload, where", [
    ({"text": ""}, "text"),
    ({"text": "x" * 4001}, "text"),
    ({}, "a message needs text or media"),
    ({"text": "hi", "colour": "red"}, "colour"),
    ({"text": "hi", "mediaIds": ["not-a-media-id"]}, "mediaIds"),
], ids=["empty", "too-long", "nothing", "unknown-field", "bad-media-id"])
async def test_a_malformed_message_is_refused_in_the_ack_and_the_socket_stays(
    live_server: LiveServer, mongo_db, payload: dict, where: str
):
    async with live_api(live_server) as api:
        people = await repair_people(api)
    async with chat_client(live_server, people.customer) as customer:
        ack = await customer.call("chat:send", {"jobId": people.job_id,
                                                "clientMessageId": client_message_id(), **payload})

        assert error_code(ack) == "VALIDATION_ERROR" and where in ack["error"]["message"]
        assert customer.sio.connected
        assert error_code(await customer.call("chat:join", "not an object")) == "VALIDATION_ERROR"
        ok_data(await customer.send(people.job_id, "still here"))
    assert await mongo_db.chat_messages.count_documents({"job_id": people.job_id}) == 1


async def test_media_ids_not_confirmed_by_the_media_check_are_refused(live_server: LiveServer,
                                                                      mongo_db):
    async with live_api(live_server) as api:
        people = await repair_people(api)
    async with chat_client(live_server, people.customer) as customer:
        ack = await customer.send(people.job_id, None, mediaIds=["med_0123456789abcdef"])

        assert error_code(ack) == "MEDIA_NOT_FOUND"
    assert await mongo_db.chat_messages.count_documents({}) == 0


async def test_an_event_larger_than_the_limit_is_refused_and_the_socket_stays_up(
    live_server: LiveServer, mongo_db
):
    limit = live_server.config.realtime.max_event_bytes
    async with live_api(live_server) as api:
        people = await repair_people(api)
    async with chat_client(live_server, people.customer) as customer:
        ack = await customer.send(people.job_id, "x" * (limit + 1024))

        assert error_code(ack) == "PAYLOAD_TOO_LARGE"
        assert customer.sio.connected
        sent = ok_data(await customer.send(people.job_id, "after the big one"))
    assert limit * 2 < 16 * limit  # Engine.IO's buffer is 16x the handlers' limit
    assert [m["_id"] for m in await mongo_db.chat_messages.find({}).to_list()] == [sent["id"]]


@pytest.mark.settings(rate_limits={"enabled": True},
                      realtime={"event_limit": 3, "event_window_seconds": 60})
async def test_events_over_the_rate_limit_are_refused_in_the_ack_and_the_socket_stays(
    live_server: LiveServer, mongo_db
):
    async with live_api(live_server) as api:
        people = await repair_people(api)
    async with chat_client(live_server, people.customer) as customer:
        acks = [await customer.send(people.job_id, f"message {n}") for n in range(5)]

        assert [a["ok"] for a in acks] == [True, True, True, False, False]
        assert {error_code(a) for a in acks[3:]} == {"RATE_LIMITED"}
        assert customer.sio.connected
    # A new connection has its own window.
    async with chat_client(live_server, people.customer) as again:
        ok_data(await again.send(people.job_id, "fresh connection"))
    assert await mongo_db.chat_messages.count_documents({"job_id": people.job_id}) == 4


async def test_typing_and_read_reach_the_others_in_the_room(live_server: LiveServer, mongo_db):
    async with live_api(live_server) as api:
        people = await repair_people(api)
    job = people.job_id
    async with (chat_client(live_server, people.customer) as customer,
                chat_client(live_server, people.technician) as technician):
        for member in (customer, technician):
            ok_data(await member.join(job))
        sent = ok_data(await customer.send(job, "Ping"))

        ok_data(await technician.call("chat:typing", {"jobId": job}))
        read = ok_data(await technician.call("chat:read", {"jobId": job, "messageId": sent["id"]}))

        assert await customer.next("chat:typing") == {"jobId": job, "userId": people.technician.id}
        assert await customer.next("chat:read") == read
        assert read["userId"] == people.technician.id and read["messageId"] == sent["id"]
        await flushed(live_server, technician, people.technician)
        assert technician.nothing_in("chat:typing")  # not echoed to the typist
        missing = await technician.call("chat:read", {"jobId": job, "messageId": "msg_000000000000"})
        assert error_code(missing) == "NOT_FOUND"
    chat = await mongo_db.chats.find_one({"_id": job})
    assert chat["reads"][people.technician.id]["message_id"] == sent["id"]


async def test_media_uploaded_to_the_job_are_posted_and_others_refused(live_server: LiveServer,
                                                                      mongo_db):
    """The media check app.media registers: ids of this job's uploads pass, an upload to
    another job does not."""
    async with live_api(live_server) as api:
        people = await repair_people(api)
        elsewhere = await repair_people(api)
        picture = await media_factories.uploaded(api, people.customer, people.job_id,
                                                 media_factories.png())
        foreign = await media_factories.uploaded(api, elsewhere.customer, elsewhere.job_id,
                                                 media_factories.png(color=(1, 2, 3)))
    async with chat_client(live_server, people.customer) as customer:
        sent = ok_data(await customer.send(people.job_id, None, mediaIds=[picture["id"]]))
        other = await customer.send(people.job_id, "and this", mediaIds=[foreign["id"]])

    assert sent["mediaIds"] == [picture["id"]] and sent["text"] is None
    assert error_code(other) == "MEDIA_NOT_FOUND"
    stored = await mongo_db.chat_messages.find({}).to_list()
    assert [(m["_id"], m["media_ids"]) for m in stored] == [(sent["id"], [picture["id"]])]
