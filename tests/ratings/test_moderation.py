"""Admins hide a rating's comments (kept in the database, audited with the reason) and the
low-rating review alert: raised once per low spell, never a block."""

from tests.helpers import assert_error, field_errors
from tests.ratings.factories import rated, ratings_of, repair_of, technician_with_repair
from tests.technicians.factories import approved_technician

ALERTS = "/api/admin/alerts"


async def _moderate(api, caller, rating_id: str, hidden: bool = True,
                    reason: str | None = "Abusive language") -> object:
    body: dict[str, object] = {"commentsHidden": hidden}
    if reason is not None:
        body["reason"] = reason
    return await api.client.patch(f"/api/ratings/{rating_id}", json=body, headers=caller.headers)


async def test_an_admin_hides_comments_kept_and_audited(api, mongo_db):
    account, technician, customer, repair = await technician_with_repair(api)
    rating = await rated(api, customer, repair.id, 1, comments="Rude and late, a crook")
    compliance = await api.admin("compliance")
    response = await _moderate(api, compliance, rating["id"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["message"] == "Comments hidden"
    data = body["data"]
    assert (data["commentsHidden"], data["comments"], data["hiddenReason"], data["hiddenBy"]) == (
        True, "Rude and late, a crook", "Abusive language", compliance.id)
    stored = await mongo_db.ratings.find_one({"_id": rating["id"]})
    assert stored["comments"] == "Rude and late, a crook" and stored["comments_hidden"] is True
    [entry] = await api.audited(compliance, "rating.comments_hidden", rating["id"])
    assert entry["actorId"] == compliance.id and entry["reason"] == "Abusive language"
    assert entry["changes"] == {"commentsHidden": {"from": False, "to": True}}

    listed = (await ratings_of(api, customer, technician["id"])).json()["data"]["items"]
    assert [(i["id"], i["comments"], i["commentsHidden"], i["score"]) for i in listed] == [
        (rating["id"], None, True, 1)]
    # The score still counts: only the words are hidden.
    row = await mongo_db.technicians.find_one({"_id": technician["id"]})
    assert (row["rating_count"], row["rating_sum"]) == (1, 1)

    assert_error(await _moderate(api, compliance, rating["id"]), 409)  # hidden already
    shown = await _moderate(api, compliance, rating["id"], hidden=False, reason="Reviewed: fair")
    assert shown.status_code == 200 and shown.json()["data"]["commentsHidden"] is False
    listed = (await ratings_of(api, customer, technician["id"])).json()["data"]["items"]
    assert listed[0]["comments"] == "Rude and late, a crook"
    await api.audited(compliance, "rating.comments_shown", rating["id"])


async def test_only_moderating_admins_hide_comments_with_a_reason(api, mongo_db):
    account, technician, customer, repair = await technician_with_repair(api)
    rating = await rated(api, customer, repair.id, 2, comments="Meh")
    finance = await api.admin("finance")
    for caller in (customer, account, finance):
        assert_error(await _moderate(api, caller, rating["id"]), 403)
    ops = await api.admin("ops")
    assert "body.reason" in field_errors(await _moderate(api, ops, rating["id"], reason=None))
    assert_error(await _moderate(api, ops, "rat_doesnotexist"), 404)
    stored = await mongo_db.ratings.find_one({"_id": rating["id"]})
    assert stored["comments_hidden"] is False and stored["hidden_reason"] is None
    assert (await _moderate(api, ops, rating["id"])).status_code == 200


async def _low_rating_alerts(api, admin) -> list[dict]:
    response = await api.client.get(ALERTS, params={"kind": "technician_low_rating"},
                                    headers=admin.headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]["items"]


async def test_a_low_rated_technician_alerts_once_per_spell_and_is_not_blocked(api, mongo_db):
    ops = await api.admin("ops")
    account, technician = await approved_technician(api, ops)
    customer = await api.customer()

    async def rate_once(score: int) -> None:
        repair = await repair_of(customer, technician["id"], account.id)
        await rated(api, customer, repair.id, score)

    for _ in range(9):
        await rate_once(3)  # average 3 < 3.5, but under 10 ratings: no alert yet
    assert await _low_rating_alerts(api, ops) == []
    await rate_once(3)  # the 10th
    [alert] = await _low_rating_alerts(api, ops)
    assert alert["subjectId"] == technician["id"]
    assert alert["details"]["count"] == 10 and alert["details"]["average"] == 3.0
    await rate_once(3)  # still low: the same condition, no second alert
    assert len(await _low_rating_alerts(api, ops)) == 1
    ack = await api.client.patch(f"{ALERTS}/{alert['id']}", json={"acknowledged": True},
                                 headers=ops.headers)
    assert ack.status_code == 200
    await rate_once(2)  # acknowledged, but the same low spell: still no new alert
    assert len(await _low_rating_alerts(api, ops)) == 1
    row = await mongo_db.technicians.find_one({"_id": technician["id"]})
    assert (row["status"], row["low_rating_alerted"]) == ("approved", True)

    for _ in range(5):
        await rate_once(5)  # (35 + 25) / 17 = 3.53: recovered, the spell ends
    row = await mongo_db.technicians.find_one({"_id": technician["id"]})
    assert row["low_rating_alerted"] is False
    await rate_once(1)  # (60 + 1) / 18 = 3.39: a new low spell, a new alert
    alerts = await _low_rating_alerts(api, ops)
    assert len(alerts) == 2 and alerts[0]["details"]["count"] == 18
    profile = await api.client.get(f"/api/technicians/{technician['id']}",
                                   headers=customer.headers)
    assert profile.status_code == 200 and profile.json()["data"]["status"] == "approved"
