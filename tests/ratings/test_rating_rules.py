"""Who may rate a repair, when, how often, and with what: only the customer of a completed
repair, once, within RATING_WINDOW_DAYS of completion, a whole score 1-5 and at most 1,000
characters of comments."""

import asyncio
from datetime import timedelta

import pytest

from app.core import clock
from app.repairs.models import RepairStatus
from tests.dealers.factories import approved_dealer
from tests.helpers import assert_error, field_errors
from tests.ratings.factories import rate, repair_of, technician_with_repair


async def _nothing_rated(mongo_db, technician_id: str) -> None:
    assert await mongo_db.ratings.count_documents({}) == 0
    technician = await mongo_db.technicians.find_one({"_id": technician_id})
    assert (technician["rating_count"], technician["rating_sum"]) == (0, 0)
    stats = await mongo_db.technician_rating_stats.find_one({"_id": "platform"})
    assert stats is None or (stats["rating_count"], stats["rating_sum"]) == (0, 0)


async def test_the_customer_rates_a_completed_repair_once_audited(api, mongo_db):
    account, technician, customer, repair = await technician_with_repair(api)
    response = await rate(api, customer, repair.id, 4, comments="  Quick and tidy  ")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["success"] is True and body["traceId"] == response.headers["x-request-id"]
    data = body["data"]
    assert data["id"].startswith("rat_")
    assert {k: data[k] for k in ("repairId", "technicianId", "score", "comments",
                                 "commentsHidden")} == {
        "repairId": repair.id, "technicianId": technician["id"], "score": 4,
        "comments": "Quick and tidy", "commentsHidden": False}
    stored = await mongo_db.ratings.find_one({"_id": data["id"]})
    assert (stored["customer_id"], stored["repair_id"], stored["technician_id"],
            stored["score"]) == (customer.id, repair.id, technician["id"], 4)
    row = await mongo_db.technicians.find_one({"_id": technician["id"]})
    assert (row["rating_count"], row["rating_sum"], row["rating_average"]) == (1, 4, 4.0)
    assert row["rating_distribution"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}
    stats = await mongo_db.technician_rating_stats.find_one({"_id": "platform"})
    assert (stats["rating_count"], stats["rating_sum"]) == (1, 4)
    admin = await api.root_admin()
    [entry] = await api.audited(admin, "rating.created", data["id"])
    assert entry["actorId"] == customer.id
    assert entry["metadata"]["repairId"] == repair.id and entry["metadata"]["score"] == 4

    again = assert_error(await rate(api, customer, repair.id, 5), 409)
    assert again["data"] == {"repairId": repair.id}
    assert await mongo_db.ratings.count_documents({}) == 1
    row = await mongo_db.technicians.find_one({"_id": technician["id"]})
    assert (row["rating_count"], row["rating_sum"]) == (1, 4)


async def test_only_the_repairs_customer_may_rate_it(api, mongo_db):
    account, technician, customer, repair = await technician_with_repair(api)
    stranger = await api.customer()
    assert_error(await rate(api, stranger, repair.id), 404)
    assert_error(await rate(api, customer, "rep_doesnotexist"), 404)
    dealer, _ = await approved_dealer(api)
    ops = await api.admin("ops")
    for not_a_customer in (account, dealer, ops):
        assert_error(await rate(api, not_a_customer, repair.id), 403)
    assert_error(await api.client.post("/api/ratings", json={"repairId": repair.id, "score": 5}),
                 401)
    await _nothing_rated(mongo_db, technician["id"])


@pytest.mark.parametrize("status", [RepairStatus.OFFERED, RepairStatus.ACCEPTED,
                                    RepairStatus.IN_PROGRESS, RepairStatus.CANCELLED])
async def test_a_repair_not_completed_cannot_be_rated(api, mongo_db, status):
    account, technician, customer, _ = await technician_with_repair(api)
    repair = await repair_of(customer, technician["id"], account.id, status=status)
    body = assert_error(await rate(api, customer, repair.id), 409)
    assert body["data"] == {"status": status.value}
    assert await mongo_db.ratings.count_documents({"repair_id": repair.id}) == 0
    row = await mongo_db.technicians.find_one({"_id": technician["id"]})
    assert row["rating_count"] == 0


async def test_two_concurrent_ratings_of_one_repair_count_once(api, mongo_db):
    account, technician, customer, repair = await technician_with_repair(api)
    first, second = await asyncio.gather(rate(api, customer, repair.id, 5),
                                         rate(api, customer, repair.id, 1))
    assert sorted([first.status_code, second.status_code]) == [201, 409]
    won = first if first.status_code == 201 else second
    score = won.json()["data"]["score"]
    assert await mongo_db.ratings.count_documents({"repair_id": repair.id}) == 1
    row = await mongo_db.technicians.find_one({"_id": technician["id"]})
    assert (row["rating_count"], row["rating_sum"]) == (1, score)
    stats = await mongo_db.technician_rating_stats.find_one({"_id": "platform"})
    assert (stats["rating_count"], stats["rating_sum"]) == (1, score)


async def test_ratings_close_rating_window_days_after_completion(api, mongo_db):
    account, technician, customer, repair = await technician_with_repair(api)
    late = await repair_of(customer, technician["id"], account.id)
    # A second before the window closes: still open.
    assert repair.completed_at is not None
    clock.advance(repair.completed_at + timedelta(days=30, seconds=-1) - clock.utcnow())
    assert (await rate(api, customer, repair.id, 3)).status_code == 201
    assert late.completed_at is not None
    clock.advance(late.completed_at + timedelta(days=30, seconds=1) - clock.utcnow())
    body = assert_error(await rate(api, customer, late.id, 3), 422)
    assert body["data"]["ruleFlags"] == ["RATING_WINDOW_CLOSED"]
    assert body["data"]["ratingWindowDays"] == 30
    assert await mongo_db.ratings.count_documents({"repair_id": late.id}) == 0
    row = await mongo_db.technicians.find_one({"_id": technician["id"]})
    assert (row["rating_count"], row["rating_sum"]) == (1, 3)


@pytest.mark.settings(ratings={"window_days": 2})
async def test_the_window_follows_its_setting(api, mongo_db):
    account, technician, customer, repair = await technician_with_repair(api)
    clock.advance(timedelta(days=2, seconds=1))
    assert_error(await rate(api, customer, repair.id), 422)
    await _nothing_rated(mongo_db, technician["id"])


@pytest.mark.parametrize("score", [4.5, "5", True, 0, 6, -1, None, 5.0, [5]])
async def test_a_score_must_be_a_whole_number_from_1_to_5(api, mongo_db, score):
    account, technician, customer, repair = await technician_with_repair(api)
    assert "body.score" in field_errors(await rate(api, customer, repair.id, score))
    await _nothing_rated(mongo_db, technician["id"])


async def test_comments_are_at_most_1000_characters_and_unknown_fields_refused(api, mongo_db):
    account, technician, customer, repair = await technician_with_repair(api)
    assert "body.comments" in field_errors(
        await rate(api, customer, repair.id, 5, comments="x" * 1001))
    assert "body.stars" in field_errors(await rate(api, customer, repair.id, 5, stars=5))
    missing = await api.client.post("/api/ratings", json={"score": 5}, headers=customer.headers)
    assert "body.repairId" in field_errors(missing)
    await _nothing_rated(mongo_db, technician["id"])
    response = await rate(api, customer, repair.id, 5, comments="y" * 1000)
    assert response.status_code == 201, response.text
    assert response.json()["data"]["comments"] == "y" * 1000
