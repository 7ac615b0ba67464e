"""A dispute's evidence in one document: the order's (or repair's) timeline, the payment and
its ledger postings, the chat with media references, calls, delivery and remote sessions,
each item with the seq of the audit entry that recorded it."""

from typing import Any

import pytest

from app.payments.ledger import accounts
from tests.calls import factories as calls
from tests.chat.factories import client_message_id
from tests.consent import factories as consent
from tests.disputes.factories import DETAILS, Disputes
from tests.helpers import Account, Api, assert_error
from tests.media.factories import png, uploaded
from tests.payments.factories import Payments
from tests.repairs.factories import data_of
from tests.repairs_money.factories import Job, paid, quoted_and_accepted


@pytest.fixture
def disputes(pay: Payments) -> Disputes:
    return Disputes(pay)


def _evidence_path(dispute_id: str) -> str:
    return f"/api/admin/disputes/{dispute_id}/evidence"


async def _evidence(api: Api, admin: Account, dispute_id: str) -> dict[str, Any]:
    return data_of(await api.client.get(_evidence_path(dispute_id), headers=admin.headers))


async def _trail(api: Api, auditor: Account, *subject_ids: str) -> dict[int, dict[str, Any]]:
    """The chained audit entries about these subjects, by seq (once nothing is pending)."""
    await api.sequenced_chain(auditor)
    found: dict[int, dict[str, Any]] = {}
    for subject_id in subject_ids:
        for entry in await api.audit_entries(auditor, subjectId=subject_id):
            found[entry["seq"]] = entry
    return found


def _recorded(trail: dict[int, dict[str, Any]], seq: int | None, action: str,
              subject_id: str) -> None:
    """`seq` names the audit entry of `action` about `subject_id`."""
    assert seq is not None, (action, subject_id)
    assert (trail[seq]["action"], trail[seq]["subjectId"]) == (action, subject_id)


async def _message(api: Api, who: Account, job_id: str, text: str,
                   media_ids: list[str] | None = None) -> dict[str, Any]:
    body = {"text": text, "clientMessageId": client_message_id(), "mediaIds": media_ids or []}
    return data_of(await api.client.post(f"/api/chat/{job_id}/messages", json=body,
                                         headers=who.headers), 201)


async def test_order_dispute_evidence_assembles_every_record_with_its_audit_seq(
    pay: Payments, disputes: Disputes, mongo_db
):
    api = pay.api
    purchase = await pay.delivered()
    order_id, buyer, dealer = purchase.order["id"], purchase.buyer, purchase.shop.account
    photo = png()
    media = await uploaded(api, buyer, order_id, photo, filename="crack.png",
                           content_type="image/png")
    first = await _message(api, buyer, order_id, "The screen is cracked", [media["id"]])
    reply = await _message(api, dealer, order_id, "It left us intact")
    call = await calls.started(api, buyer, order_id, "audio")
    await calls.moved(api, dealer, call["id"], "accept")
    await calls.moved(api, buyer, call["id"], "end")
    dispute = await disputes.opened(purchase)
    assert (await disputes.note(dispute["id"], dealer, "Packed with foam")).status_code == 201
    ops = await disputes.lead()
    hidden = await api.client.patch(f"/api/chat/{order_id}/messages/{reply['id']}",
                                    json={"hidden": True, "reason": "Abusive wording"},
                                    headers=ops.headers)
    assert hidden.status_code == 200, hidden.text
    auditor = await disputes.auditor()
    payment_id = purchase.payment["id"]
    trail = await _trail(api, auditor, order_id, payment_id, dispute["id"], media["id"],
                         call["id"], reply["id"])

    evidence = await _evidence(api, ops, dispute["id"])

    assert evidence == await _evidence(api, auditor, dispute["id"]) | {
        "assembledAt": evidence["assembledAt"]}
    assert evidence["dispute"]["id"] == dispute["id"] and evidence["dispute"]["details"] == DETAILS
    assert (evidence["subjectType"], evidence["subjectId"]) == ("order", order_id)
    assert [item["action"] for item in evidence["timeline"]] == [
        "place", "pay", "pack", "ship", "deliver"]
    for item in evidence["timeline"]:
        _recorded(trail, item["seq"], f"order.{item['action']}", order_id)
    [opened] = evidence["disputeTimeline"]
    _recorded(trail, opened["seq"], "dispute.opened", dispute["id"])
    [note] = evidence["notes"]
    assert note["text"] == "Packed with foam"
    _recorded(trail, note["seq"], "dispute.note_added", dispute["id"])
    # The payment, frozen by the dispute, with every audit entry about it and its postings.
    payment = evidence["payment"]
    assert payment["id"] == payment_id and payment["escrowStatus"] == "disputed"
    assert {"payment.created", "payment.dispute_frozen"} <= {a["action"] for a in payment["audit"]}
    assert all(trail[a["seq"]]["subjectId"] == payment_id for a in payment["audit"])
    [capture] = evidence["ledger"]
    assert {e["account"]: e["amount"] for e in capture["entries"]} == {
        accounts.GATEWAY_CLEARING: -payment["amountCaptured"],
        accounts.escrow(payment_id): payment["amountCaptured"]}
    assert trail[capture["seq"]]["subjectId"] == payment_id
    assert evidence["refunds"] == []
    # The transcript, hidden messages too; media by reference, never their bytes.
    chat = evidence["chat"]
    assert chat["status"] == "locked"
    assert [m["id"] for m in chat["messages"]] == [first["id"], reply["id"]]
    [photo_ref] = chat["messages"][0]["media"]
    assert photo_ref["id"] == media["id"] and photo_ref["contentType"] == "image/png"
    stored = await mongo_db.media.find_one({"_id": media["id"]})
    assert photo_ref["size"] == stored["size"] and photo_ref["sha256"] == stored["sha256"]
    assert set(photo_ref) == {"id", "kind", "contentType", "size", "sha256", "uploaderId",
                              "createdAt", "seq"}
    _recorded(trail, photo_ref["seq"], "media.uploaded", media["id"])
    assert chat["messages"][0]["seq"] is None
    moderated = chat["messages"][1]
    assert moderated["hidden"] is True and moderated["hiddenReason"] == "Abusive wording"
    _recorded(trail, moderated["seq"], "chat.message_hidden", reply["id"])
    # The call's log, each event with its entry.
    [call_item] = evidence["calls"]
    assert call_item["id"] == call["id"] and call_item["status"] == "ended"
    assert [e["event"] for e in call_item["events"]] == ["started", "accepted", "ended"]
    for event in call_item["events"]:
        _recorded(trail, event["seq"], f"call.{event['event']}", call["id"])
    delivery = evidence["delivery"]
    assert (delivery["carrier"], delivery["trackingNumber"]) == ("BlueDart", "BD123456")
    assert delivery["address"]["pincode"] == "560025"
    ship = next(item for item in evidence["timeline"] if item["action"] == "ship")
    deliver = next(item for item in evidence["timeline"] if item["action"] == "deliver")
    assert (delivery["shippedSeq"], delivery["deliveredSeq"]) == (ship["seq"], deliver["seq"])
    assert evidence["consents"] == [] and evidence["remoteSessions"] == []

    # Ops, compliance and the superadmin read it; nobody else, and unknown ids are 404.
    assert (await api.client.get(_evidence_path(dispute["id"]),
                                 headers=(await api.root_admin()).headers)).status_code == 200
    for outsider in (await pay.finance(), buyer, dealer):
        assert_error(await api.client.get(_evidence_path(dispute["id"]),
                                          headers=outsider.headers), 403)
    assert_error(await api.client.get(_evidence_path("dsp_000000000000000000000000"),
                                      headers=ops.headers), 404)


async def test_repair_dispute_evidence_carries_consents_and_remote_session_logs(
    pay: Payments, disputes: Disputes
):
    api = pay.api
    repair, customer, technician, profile = await consent.software_job(api)
    granted = await consent.granted_consent(api, technician, customer, repair["id"])
    opened = data_of(await consent.open_session(api, technician, repair["id"]), 201)
    session_id, token = opened["sessionId"], opened["sessionToken"]
    for kind, detail in (("port_open", "adb 5037"), ("command", "adb reboot recovery")):
        sent = await consent.send_event(api, technician, repair["id"], session_id, token,
                                        kind, detail)
        assert sent.status_code == 201, sent.text
    assert (await consent.end_session(api, technician, repair["id"], session_id)
            ).status_code == 200
    work = Job(repair["id"], customer, technician, profile["id"])
    await quoted_and_accepted(api, work)
    payment = await paid(pay, work)
    response = await api.client.post(
        "/api/disputes", json={"repairId": repair["id"], "reason": "not_as_described",
                               "details": DETAILS}, headers=customer.headers)
    dispute = data_of(response, 201)
    auditor = await disputes.auditor()
    trail = await _trail(api, auditor, repair["id"], granted["id"], session_id, dispute["id"])

    evidence = await _evidence(api, auditor, dispute["id"])

    assert (evidence["subjectType"], evidence["subjectId"]) == ("repair", repair["id"])
    assert evidence["delivery"] is None
    assert evidence["payment"]["id"] == payment["id"]
    actions = [item["action"] for item in evidence["timeline"]]
    assert actions[0] == "book" and "accept" in actions
    for item in evidence["timeline"]:
        _recorded(trail, item["seq"], f"repair.{item['action']}", repair["id"])
    [consent_item] = evidence["consents"]
    assert consent_item["id"] == granted["id"] and consent_item["status"] == "granted"
    assert [c["toStatus"] for c in consent_item["history"]] == ["pending", "granted"]
    _recorded(trail, consent_item["history"][0]["seq"], "consent.requested", granted["id"])
    _recorded(trail, consent_item["history"][1]["seq"], "consent.granted", granted["id"])
    [remote] = evidence["remoteSessions"]
    assert remote["id"] == session_id and remote["status"] == "ended"
    assert [(e["type"], e["detail"]) for e in remote["events"]][-2:] == [
        ("port_open", "adb 5037"), ("command", "adb reboot recovery")]
    assert [e["position"] for e in remote["events"]] == list(
        range(1, remote["eventCount"] + 1))
    assert remote["events"][-1]["hash"] == remote["lastHash"]
    assert [a["action"] for a in remote["audit"]] == ["remote_session.opened",
                                                      "remote_session.ended"]
    assert all(trail[a["seq"]]["subjectId"] == session_id for a in remote["audit"])
    assert evidence["chat"]["messages"] == [] and evidence["calls"] == []
