"""The chat's REST routes: posting (stored, then broadcast to the room), history newest first
with read receipts, and admins hiding a message."""

from tests.chat.factories import (
    chat_client,
    client_message_id,
    live_api,
    ok_data,
    repair_people,
)
from tests.helpers import assert_error
from tests.live import LiveServer


def body(text: str | None = "Hello", **extra) -> dict:
    return {**({"text": text} if text is not None else {}), "clientMessageId": client_message_id(),
            **extra}


async def test_a_posted_message_is_stored_then_broadcast_to_the_room(live_server: LiveServer,
                                                                     mongo_db):
    async with live_api(live_server) as api:
        people = await repair_people(api)
        async with chat_client(live_server, people.technician) as technician:
            ok_data(await technician.join(people.job_id))

            response = await api.client.post(f"/api/chat/{people.job_id}/messages",
                                             json=body("Booked for 5 pm"),
                                             headers=people.customer.headers)

            assert response.status_code == 201, response.text
            envelope = response.json()
            assert envelope["success"] is True and envelope["message"] == "Message sent"
            message = envelope["data"]
            assert await technician.next() == message
    assert message["text"] == "Booked for 5 pm" and message["readBy"] == []
    stored = await mongo_db.chat_messages.find_one({"_id": message["id"]})
    assert stored["job_id"] == people.job_id and stored["sender_id"] == people.customer.id


async def test_posting_is_refused_to_outsiders_strangers_and_malformed_bodies(
    live_server: LiveServer, mongo_db
):
    async with live_api(live_server) as api:
        people = await repair_people(api)
        url = f"/api/chat/{people.job_id}/messages"
        outsider = await api.client.post(url, json=body(), headers=people.outsider.headers)
        anonymous = await api.client.post(url, json=body())
        no_job = await api.client.post("/api/chat/rep_000000000000000000000000/messages",
                                       json=body(), headers=people.customer.headers)
        empty = await api.client.post(url, json=body(""), headers=people.customer.headers)
        long = await api.client.post(url, json=body("x" * 4001), headers=people.customer.headers)
        nothing = await api.client.post(url, json=body(None), headers=people.customer.headers)
        unknown = await api.client.post(url, json=body(colour="red"),
                                        headers=people.customer.headers)
        media = await api.client.post(url, json=body(mediaIds=["med_abc123"]),
                                      headers=people.customer.headers)

    assert assert_error(outsider, 404)["message"] == "Job not found"
    assert_error(anonymous, 401)
    assert_error(no_job, 404)
    for refused in (empty, long, nothing, unknown):
        assert assert_error(refused, 422)["data"]["errors"], refused.text
    assert assert_error(media, 422)["data"]["code"] == "MEDIA_NOT_FOUND"
    assert await mongo_db.chat_messages.count_documents({}) == 0


async def test_history_is_newest_first_in_pages_with_read_receipts(live_server: LiveServer):
    async with live_api(live_server) as api:
        people = await repair_people(api)
        url = f"/api/chat/{people.job_id}/messages"
        sent = []
        for n in range(3):
            response = await api.client.post(url, json=body(f"m{n}"), headers=people.customer.headers)
            assert response.status_code == 201, response.text
            sent.append(response.json()["data"])
        async with chat_client(live_server, people.technician) as technician:
            ok_data(await technician.call("chat:read", {"jobId": people.job_id,
                                                        "messageId": sent[1]["id"]}))
            # An older message than the marker does not move it back.
            ok_data(await technician.call("chat:read", {"jobId": people.job_id,
                                                        "messageId": sent[0]["id"]}))
        history = f"/api/chat/{people.job_id}/history"
        first = await api.client.get(history, params={"limit": 2}, headers=people.customer.headers)
        assert first.status_code == 200, first.text
        page = first.json()["data"]
        second = await api.client.get(history, params={"limit": 2, "cursor": page["nextCursor"]},
                                      headers=people.admin.headers)
        outsider = await api.client.get(history, headers=people.outsider.headers)

    assert [m["text"] for m in page["items"]] == ["m2", "m1"] and page["nextCursor"]
    assert [m["readBy"] for m in page["items"]] == [[], [people.technician.id]]
    assert page["status"] == "open"
    assert [(r["userId"], r["messageId"]) for r in page["reads"]] == [
        (people.technician.id, sent[1]["id"])]
    rest = second.json()["data"]
    assert second.status_code == 200 and rest["nextCursor"] is None
    assert [(m["text"], m["readBy"]) for m in rest["items"]] == [("m0", [people.technician.id])]
    assert_error(outsider, 404)


async def test_an_admin_hides_a_message_which_keeps_its_content_and_is_audited(
    live_server: LiveServer, mongo_db
):
    async with live_api(live_server) as api:
        people = await repair_people(api)
        posted = await api.client.post(f"/api/chat/{people.job_id}/messages",
                                       json=body("call me on +91 98765 43210"),
                                       headers=people.customer.headers)
        message_id = posted.json()["data"]["id"]
        url = f"/api/chat/{people.job_id}/messages/{message_id}"
        hide = {"hidden": True, "reason": "Sharing a phone number"}
        async with chat_client(live_server, people.technician) as technician:
            ok_data(await technician.join(people.job_id))
            by_customer = await api.client.patch(url, json=hide, headers=people.customer.headers)
            by_admin = await api.client.patch(url, json=hide, headers=people.admin.headers)
            pushed = await technician.next()
        again = await api.client.patch(url, json=hide, headers=people.admin.headers)
        history = await api.client.get(f"/api/chat/{people.job_id}/history",
                                       headers=people.technician.headers)
        audit = await api.audited(await api.admin("compliance"), "chat.message_hidden", message_id)

    assert_error(by_customer, 403)
    assert by_admin.status_code == 200, by_admin.text
    moderated = by_admin.json()["data"]
    assert moderated["hidden"] is True and moderated["text"] == "call me on +91 98765 43210"
    assert moderated["hiddenReason"] == "Sharing a phone number"
    assert moderated["hiddenBy"] == people.admin.id
    assert pushed["id"] == message_id and pushed["hidden"] is True and pushed["text"] is None
    assert assert_error(again, 409)["data"] == {"hidden": True}
    shown = history.json()["data"]["items"]
    assert [(m["id"], m["text"], m["hidden"]) for m in shown] == [(message_id, None, True)]
    assert audit[0]["actorId"] == people.admin.id and audit[0]["reason"] == "Sharing a phone number"
    stored = await mongo_db.chat_messages.find_one({"_id": message_id})
    assert stored["hidden"] is True and stored["text"] == "call me on +91 98765 43210"
