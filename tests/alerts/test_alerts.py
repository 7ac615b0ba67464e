"""Operational alerts: raised once per kind and subject while open, acknowledged by admins."""

from datetime import timedelta

from app.alerts import service as alerts
from app.alerts.models import AlertKind
from app.core import clock
from tests.helpers import assert_error, field_errors

ALERTS = "/api/admin/alerts"


async def _raise(subject_id: str, kind: AlertKind = AlertKind.PAYMENT_STUCK, **details):
    return await alerts.raise_alert(kind, "payment", subject_id,
                                    f"{kind.value} on {subject_id}", details or None)


async def _listed(api, admin, **params) -> list[dict]:
    response = await api.client.get(ALERTS, params=params, headers=admin.headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]["items"]


async def test_a_raised_alert_is_listed_open_and_audited_by_the_system(api):
    finance = await api.admin("finance")
    compliance = await api.admin("compliance")

    alert = await _raise("pay_1", waitedMinutes=42)

    assert alert is not None
    [listed] = await _listed(api, finance)
    assert listed["id"] == alert.id
    assert (listed["kind"], listed["subjectType"], listed["subjectId"]) == (
        "payment_stuck", "payment", "pay_1")
    assert listed["message"] == "payment_stuck on pay_1"
    assert listed["details"] == {"waitedMinutes": 42}
    assert (listed["acknowledgedBy"], listed["acknowledgedAt"], listed["note"]) == (None, None, None)
    [entry] = await api.wait_for_audit(compliance, action="alert.payment_stuck")
    assert (entry["actorId"], entry["subjectId"]) == ("system", "pay_1")
    assert entry["metadata"]["alertId"] == alert.id


async def test_an_open_alert_is_not_raised_again_for_the_same_kind_and_subject(api):
    finance = await api.admin("finance")

    first = await _raise("pay_1")
    again = await _raise("pay_1")
    other_subject = await _raise("pay_2")
    other_kind = await _raise("pay_1", AlertKind.ESCROW_OVERDUE)

    assert first is not None and again is None
    assert other_subject is not None and other_kind is not None
    listed = await _listed(api, finance)
    assert sorted((a["kind"], a["subjectId"]) for a in listed) == [
        ("escrow_overdue", "pay_1"), ("payment_stuck", "pay_1"), ("payment_stuck", "pay_2")]


async def test_once_acknowledged_the_same_subject_can_alert_again(api):
    finance = await api.admin("finance")
    first = await _raise("pay_1")
    assert first is not None
    ack = await api.client.patch(f"{ALERTS}/{first.id}", json={"acknowledged": True},
                                 headers=finance.headers)
    assert ack.status_code == 200, ack.text

    second = await _raise("pay_1")

    assert second is not None and second.id != first.id
    assert [a["id"] for a in await _listed(api, finance, open="true")] == [second.id]
    assert [a["id"] for a in await _listed(api, finance, open="false")] == [first.id]


async def test_acknowledging_records_who_when_and_why_once(api):
    ops = await api.admin("ops")
    compliance = await api.admin("compliance")
    alert = await _raise("pay_1")
    assert alert is not None

    response = await api.client.patch(
        f"{ALERTS}/{alert.id}", json={"acknowledged": True, "note": "Buyer abandoned checkout"},
        headers=ops.headers,
    )

    assert response.status_code == 200, response.text
    acknowledged = response.json()["data"]
    assert acknowledged["acknowledgedBy"] == ops.id
    assert acknowledged["acknowledgedAt"] is not None
    assert acknowledged["note"] == "Buyer abandoned checkout"
    again = await api.client.patch(f"{ALERTS}/{alert.id}", json={"acknowledged": True},
                                   headers=ops.headers)
    assert_error(again, 409)
    [entry] = await api.wait_for_audit(compliance, action="alert.acknowledged")
    assert (entry["actorId"], entry["subjectId"]) == (ops.id, alert.id)
    assert entry["reason"] == "Buyer abandoned checkout"
    assert entry["metadata"] == {"kind": "payment_stuck"}


async def test_an_alert_cannot_be_reopened_nor_acknowledged_with_unknown_fields(api):
    finance = await api.admin("finance")
    alert = await _raise("pay_1")
    assert alert is not None

    assert_error(await api.client.patch(f"{ALERTS}/{alert.id}", json={"acknowledged": False},
                                        headers=finance.headers), 422)
    assert "body.reopen" in field_errors(await api.client.patch(
        f"{ALERTS}/{alert.id}", json={"acknowledged": True, "reopen": True},
        headers=finance.headers))
    assert_error(await api.client.patch(f"{ALERTS}/alr_000000000000000000000000",
                                        json={"acknowledged": True}, headers=finance.headers), 404)
    [still_open] = await _listed(api, finance, open="true")
    assert still_open["id"] == alert.id


async def test_alerts_are_filtered_by_kind_and_listed_newest_first_in_pages(api):
    finance = await api.admin("finance")
    raised = []
    for number in range(3):
        alert = await _raise(f"pay_{number}")
        assert alert is not None
        raised.append(alert.id)
        clock.advance(timedelta(seconds=1))
    await _raise("pay_0", AlertKind.REFUND_FAILED)

    assert [a["subjectId"] for a in await _listed(api, finance, kind="refund_failed")] == ["pay_0"]
    first = await api.client.get(ALERTS, params={"kind": "payment_stuck", "limit": 2},
                                 headers=finance.headers)
    page = first.json()["data"]
    assert [a["id"] for a in page["items"]] == raised[::-1][:2]
    rest = await _listed(api, finance, kind="payment_stuck", limit=2, cursor=page["nextCursor"])
    assert [a["id"] for a in rest] == raised[:1]


async def test_only_admins_holding_alerts_manage_see_or_acknowledge_alerts(api):
    alert = await _raise("pay_1")
    assert alert is not None
    customer = await api.customer()
    dealer = await api.dealer()
    compliance = await api.admin("compliance")

    for outsider in (customer, dealer, compliance):
        assert_error(await api.client.get(ALERTS, headers=outsider.headers), 403)
        assert_error(await api.client.patch(f"{ALERTS}/{alert.id}", json={"acknowledged": True},
                                            headers=outsider.headers), 403)
    assert_error(await api.client.get(ALERTS), 401)
    for manager in (await api.admin("finance"), await api.admin("ops")):
        assert [a["id"] for a in await _listed(api, manager)] == [alert.id]
