"""Story 3 — the README's "a software repair", with "Real-time: chat" and "Media": an ops admin
assigns a software technician (never a hardware-only one), the technician accepts and works
online; the customer and the technician talk in the job's chat over Socket.IO and call each
other, the customer sends a photo, the technician downloads it."""

import hashlib
import io
import uuid

from PIL import Image

from tests.stories.people import World, data_of, fresh_place, png_bytes
from tests.stories.repairs import assignment, move, software_booking, technician


async def test_a_software_repair_with_chat_and_media(world: World):
    ops, compliance = await world.admin("ops"), await world.admin("compliance")
    place = fresh_place()
    software, software_profile = await technician(world, ops, ["software"], place, "Kiran")
    _, hardware_profile = await technician(world, ops, ["hardware"], place, "Hari")

    # 1. The customer books an online software repair: it waits for an admin.
    customer = await world.person("customer", "Leela")
    repair = await world.post(customer, "/api/repairs", software_booking())
    repair_id = repair["id"]
    assert repair["status"] == "awaiting_assignment" and repair["offer"] is None
    queue = await world.get(ops, "/api/admin/repairs", status="awaiting_assignment",
                            customerId=customer.id)
    assert [r["id"] for r in queue["items"]] == [repair_id]

    # 2. An ops admin assigns it: a hardware-only technician is refused, nothing changes.
    refused = await world.refused(ops, "PATCH", f"/api/repairs/{repair_id}/assignment", 422,
                                  {"action": "assign", "technicianId": hardware_profile["id"]})
    assert refused["data"]["ruleFlags"] == ["SKILL_MISMATCH"]
    assert refused["data"]["errors"][0]["field"] == "body.technicianId"
    assert (await world.get(customer, f"/api/repairs/{repair_id}"))["status"] == \
        "awaiting_assignment"
    # The customer may not assign.
    await world.refused(customer, "PATCH", f"/api/repairs/{repair_id}/assignment", 403,
                        {"action": "assign", "technicianId": software_profile["id"]})
    offered = await assignment(world, ops, repair_id, "assign",
                               technicianId=software_profile["id"])
    assert offered["status"] == "offered"
    assert offered["offer"]["technicianId"] == software_profile["id"]

    # 3. The technician accepts; an online job goes straight to work.
    offers = await world.get(software, "/api/technicians/me/offers")
    assert [o["id"] for o in offers["items"]] == [repair_id]
    accepted = await assignment(world, software, repair_id, "accept")
    assert accepted["status"] == "accepted"
    assert accepted["technicianId"] == software_profile["id"]
    await world.refused(software, "PATCH", f"/api/repairs/{repair_id}/status", 409,
                        {"action": "start_travel"})
    await move(world, software, repair_id, "start", "in_progress")

    eve = await world.person("customer", "Eve")  # a stranger to the job
    # Chat: both join the job's room; each one's message reaches the other.
    async with world.socket(customer) as theirs, world.socket(software) as mine:
        joined = await theirs.ok("chat:join", {"jobId": repair_id})
        assert joined["status"] == "open"
        await mine.ok("chat:join", {"jobId": repair_id})

        first_send = {"jobId": repair_id, "text": "Hi, it keeps rebooting",
                      "clientMessageId": uuid.uuid4().hex}
        hello = await theirs.ok("chat:send", first_send)
        assert hello["senderId"] == customer.id and hello["text"] == "Hi, it keeps rebooting"
        received = await mine.message(lambda m: m["id"] == hello["id"])
        assert received["senderId"] == customer.id and received["jobId"] == repair_id
        # A retry after a lost ack returns the first message, never a second one.
        assert (await theirs.ok("chat:send", first_send))["id"] == hello["id"]

        reply = await mine.ok("chat:send", {"jobId": repair_id, "text": "Send me a screenshot",
                                            "clientMessageId": uuid.uuid4().hex})
        assert (await theirs.message(lambda m: m["id"] == reply["id"]))["senderRole"] == \
            "technician"

        # Media: the customer uploads a PNG to the job and sends it in the chat.
        picture = png_bytes()
        upload = await world.http.post(
            "/api/media", data={"jobId": repair_id},
            files={"file": ("screen.png", picture, "image/png")}, headers=customer.headers)
        media = data_of(upload, 201)
        assert media["id"].startswith("med_") and media["jobId"] == repair_id
        assert media["kind"] == "image" and media["contentType"] == "image/png"
        assert media["uploaderId"] == customer.id
        with_photo = await theirs.ok("chat:send", {
            "jobId": repair_id, "text": "Here it is", "mediaIds": [media["id"]],
            "clientMessageId": uuid.uuid4().hex})
        pushed = await mine.message(lambda m: m["id"] == with_photo["id"])
        assert pushed["mediaIds"] == [media["id"]]
        read = await mine.ok("chat:read", {"jobId": repair_id, "messageId": with_photo["id"]})
        assert read["messageId"] == with_photo["id"] and read["userId"] == software.id

        # Calls: the technician rings the customer, who answers; either hangs up.
        call = await world.post(software, "/api/calls", {"jobId": repair_id, "type": "audio"})
        assert call["status"] == "ringing" and call["callerId"] == software.id
        assert call["calleeId"] == customer.id
        ringing = await theirs.incoming_call()
        assert ringing["id"] == call["id"] and ringing["jobId"] == repair_id
        await world.refused(eve, "PATCH", f"/api/calls/{call['id']}/status", 404,
                            {"action": "accept"})
        answered = await world.patch(customer, f"/api/calls/{call['id']}/status",
                                     {"action": "accept"})
        assert answered["status"] == "active"
        ended = await world.patch(software, f"/api/calls/{call['id']}/status", {"action": "end"})
        assert ended["status"] == "ended" and ended["endReason"] == "hangup"
        log = await world.get(customer, f"/api/calls/{call['id']}/logs")
        assert [e["event"] for e in log["events"]][-2:] == ["accepted", "ended"], log
        assert log["endReason"] == "hangup"
        await world.refused(eve, "GET", f"/api/calls/{call['id']}/logs", 404)

    # The technician downloads the photo: an image of the same size, metadata stripped.
    download = await world.http.get(f"/api/media/{media['id']}", headers=software.headers)
    assert download.status_code == 200 and download.headers["content-type"] == "image/png"
    assert hashlib.sha256(download.content).hexdigest() == media["sha256"]
    assert Image.open(io.BytesIO(download.content)).size == (32, 24)
    cached = await world.http.get(f"/api/media/{media['id']}", headers={
        **software.headers, "If-None-Match": download.headers["etag"]})
    assert cached.status_code == 304 and cached.content == b""
    part = await world.http.get(f"/api/media/{media['id']}",
                                headers={**customer.headers, "Range": "bytes=0-7"})
    assert part.status_code == 206 and part.content == download.content[:8]
    # Someone outside the job is told it does not exist.
    outsider = await world.person("customer", "Nosy")
    await world.refused(outsider, "GET", f"/api/media/{media['id']}", 404)
    await world.refused(outsider, "GET", f"/api/chat/{repair_id}/history", 404)

    # REST history shows the conversation, newest first, to both.
    history = await world.get(software, f"/api/chat/{repair_id}/history")
    assert [m["id"] for m in history["items"]] == [with_photo["id"], reply["id"], hello["id"]]
    assert history["items"][0]["mediaIds"] == [media["id"]]
    assert software.id in history["items"][0]["readBy"]  # the technician read up to the photo
    assert software.id in history["items"][2]["readBy"]
    assert history["status"] == "open"
    assert [m["id"] for m in (await world.get(customer, f"/api/chat/{repair_id}/history"))[
        "items"]] == [with_photo["id"], reply["id"], hello["id"]]

    # Complete.
    done = await move(world, software, repair_id, "complete", "completed",
                      resolutionNotes="Reflashed the firmware")
    assert done["completedAt"] and done["technicianId"] == software_profile["id"]
    listed = await world.get(ops, "/api/admin/repairs", technicianId=software_profile["id"])
    assert [(r["id"], r["status"]) for r in listed["items"]] == [(repair_id, "completed")]

    await world.audit_is_valid(compliance)
