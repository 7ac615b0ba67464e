"""Events the server has no answer for, or sent in a shape the protocol does not use, are
refused in their ack; the connection stays up and serves the next event."""

from tests.chat.factories import chat_client, error_code, live_api, ok_data, repair_people
from tests.live import LiveServer


async def test_an_unknown_event_is_refused_in_its_ack_and_the_socket_stays(
    live_server: LiveServer,
):
    async with live_api(live_server) as api:
        people = await repair_people(api)
    async with chat_client(live_server, people.customer) as customer:
        ack = await customer.call("chat:shout", {"jobId": people.job_id})

        assert error_code(ack) == "UNKNOWN_EVENT" and "chat:shout" in ack["error"]["message"]
        assert customer.sio.connected
        assert ok_data(await customer.join(people.job_id))["jobId"] == people.job_id


async def test_an_event_with_two_payloads_is_refused_in_its_ack(live_server: LiveServer,
                                                                mongo_db):
    async with live_api(live_server) as api:
        people = await repair_people(api)
    async with chat_client(live_server, people.customer) as customer:
        ack = await customer.sio.call("chat:join", ({"jobId": people.job_id}, "extra"),
                                      timeout=10)

        assert error_code(ack) == "BAD_REQUEST"
        assert customer.sio.connected
        assert ok_data(await customer.join(people.job_id))["status"] == "open"
    assert await mongo_db.chats.count_documents({}) == 1
