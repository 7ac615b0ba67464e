"""A technician's figures: average, count, distribution and the Bayesian score over the
platform-wide mean, kept by counters (never a scan); the list of ratings newest first; the
stored counters agree with the ratings; and search ranks by the Bayesian score."""

import asyncio
from datetime import timedelta

from app.core import clock
from tests.dealers.factories import approved_dealer
from tests.helpers import assert_error
from tests.ratings.factories import rate, rated, ratings_of, repair_of
from tests.technicians.factories import approved_technician, nearby, on_duty_technician

C = 10  # RATING_PRIOR_WEIGHT's default
HOME = (12.9352, 77.6245)
KM_NORTH = 1 / 111.2


async def _rate_all(api, customer, technicians, scores_of) -> None:
    """Each technician gets its scores, one repair each, one second apart (newest last)."""
    for (account, technician), scores in zip(technicians, scores_of, strict=True):
        for score in scores:
            repair = await repair_of(customer, technician["id"], account.id)
            await rated(api, customer, repair.id, score)
            clock.advance(timedelta(seconds=1))


async def _assert_stored_figures_match_ratings(mongo_db) -> None:
    """Every technician's counters and the platform's equal what its ratings add up to."""
    ratings = await mongo_db.ratings.find({}).to_list()
    async for row in mongo_db.technicians.find({}):
        scores = [r["score"] for r in ratings if r["technician_id"] == row["_id"]]
        assert row["rating_count"] == len(scores)
        assert row["rating_sum"] == sum(scores)
        assert row["rating_distribution"] == {str(s): scores.count(s) for s in range(1, 6)}
        assert row["rating_average"] == (sum(scores) / len(scores) if scores else 0.0)
    stats = await mongo_db.technician_rating_stats.find_one({"_id": "platform"})
    assert (stats["rating_count"], stats["rating_sum"]) == (
        len(ratings), sum(r["score"] for r in ratings))


async def test_bayesian_scores_over_the_platform_mean_computed_by_hand(api, mongo_db):
    ops = await api.admin("ops")
    technicians = [await approved_technician(api, ops) for _ in range(4)]
    customer = await api.customer()
    scores_of = [[5, 5], [4, 4, 4, 3], [1], []]
    await _rate_all(api, customer, technicians, scores_of)
    # By hand: 7 ratings summing to 26, so m = 26/7 ≈ 3.7143 and, with C = 10,
    # [5,5]: (10·26/7 + 10) / 12 = 3.9286; [4,4,4,3]: (10·26/7 + 15) / 14 = 3.7245;
    # [1]: (10·26/7 + 1) / 11 = 3.4675; none: m itself = 3.7143.
    m = 26 / 7
    assert [round((C * m + sum(s)) / (C + len(s)), 2) for s in scores_of] == [
        3.93, 3.72, 3.47, 3.71]
    expected = [
        {"average": 5.0, "count": 2, "bayesian": 3.93},
        {"average": 3.75, "count": 4, "bayesian": 3.72},
        {"average": 1.0, "count": 1, "bayesian": 3.47},
        {"average": 0.0, "count": 0, "bayesian": 3.71},
    ]
    dealer, _ = await approved_dealer(api)
    for (_, technician), figures in zip(technicians, expected, strict=True):
        response = await ratings_of(api, dealer, technician["id"])  # anyone signed in
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["success"] is True
        data = body["data"]
        assert {k: data[k] for k in ("average", "count", "bayesian")} == figures
        profile = await api.client.get(f"/api/technicians/{technician['id']}",
                                       headers=customer.headers)
        assert profile.status_code == 200
        assert profile.json()["data"]["rating"] == figures
    await _assert_stored_figures_match_ratings(mongo_db)


async def test_distribution_and_items_newest_first_by_cursor(api, mongo_db):
    account, technician = await approved_technician(api)
    customer = await api.customer()
    await _rate_all(api, customer, [(account, technician)], [[4, 3, 4, 5, 4]])
    body = (await ratings_of(api, customer, technician["id"], limit=2)).json()["data"]
    assert body["distribution"] == {"1": 0, "2": 0, "3": 1, "4": 3, "5": 1}
    assert (body["average"], body["count"]) == (4.0, 5)
    seen = [item["score"] for item in body["items"]]
    assert body["nextCursor"]
    while body["nextCursor"]:
        body = (await ratings_of(api, customer, technician["id"], limit=2,
                                 cursor=body["nextCursor"])).json()["data"]
        seen += [item["score"] for item in body["items"]]
    assert seen == [4, 5, 4, 3, 4]  # newest first
    item = body["items"][0]
    assert set(item) == {"id", "repairId", "technicianId", "score", "comments",
                         "commentsHidden", "createdAt"}
    await _assert_stored_figures_match_ratings(mongo_db)


async def test_unknown_or_hidden_technicians_ratings_are_not_found(api):
    customer = await api.customer()
    assert_error(await ratings_of(api, customer, "tch_doesnotexist"), 404)
    assert_error(await api.client.get("/api/ratings/tch_doesnotexist"), 401)
    ops = await api.admin("ops")
    account, technician = await approved_technician(api, ops)
    suspended = await api.client.patch(
        f"/api/technicians/{technician['id']}/status",
        json={"action": "suspend", "reason": "Complaints under review"}, headers=ops.headers)
    assert suspended.status_code == 200
    assert_error(await ratings_of(api, customer, technician["id"]), 404)
    assert (await ratings_of(api, ops, technician["id"])).status_code == 200


async def test_concurrent_ratings_of_one_technician_all_count(api, mongo_db):
    account, technician = await approved_technician(api)
    customers = [await api.customer() for _ in range(6)]
    repairs = [await repair_of(c, technician["id"], account.id) for c in customers]
    scores = [5, 4, 3, 5, 2, 1]
    answers = await asyncio.gather(*(rate(api, c, r.id, s)
                                     for c, r, s in zip(customers, repairs, scores, strict=True)))
    assert [a.status_code for a in answers] == [201] * 6
    row = await mongo_db.technicians.find_one({"_id": technician["id"]})
    assert (row["rating_count"], row["rating_sum"]) == (6, 20)
    await _assert_stored_figures_match_ratings(mongo_db)


async def test_nearby_order_follows_the_bayesian_rating(api, mongo_db):
    ops = await api.admin("ops")
    spot = (HOME[0] + KM_NORTH, HOME[1])  # all three equally far: ranked by rating, then id
    on_duty = [await on_duty_technician(api, *spot, admin=ops) for _ in range(3)]
    low, unrated, high = sorted(on_duty, key=lambda t: t[1]["id"])
    customer = await api.customer()

    async def order() -> list[str]:
        response = await nearby(api, customer, *HOME)
        assert response.status_code == 200
        return [item["technicianId"] for item in response.json()["data"]["items"]]

    assert await order() == [low[1]["id"], unrated[1]["id"], high[1]["id"]]
    await _rate_all(api, customer, [high], [[5]])
    # m = 5 now: everyone's Bayesian rating is 5.0, a tie again, so ids decide.
    assert await order() == [low[1]["id"], unrated[1]["id"], high[1]["id"]]
    await _rate_all(api, customer, [low], [[2]])
    # m = 3.5: high (35 + 5) / 11 = 3.64, unrated 3.5, low (35 + 2) / 11 = 3.36.
    assert await order() == [high[1]["id"], unrated[1]["id"], low[1]["id"]]
    items = (await nearby(api, customer, *HOME)).json()["data"]["items"]
    assert [i["rating"] for i in items] == [
        {"average": 5.0, "count": 1, "bayesian": 3.64},
        {"average": 0.0, "count": 0, "bayesian": 3.5},
        {"average": 2.0, "count": 1, "bayesian": 3.36},
    ]
    # The search's read model carries the new figures.
    cells = await mongo_db.technician_search_cells.find({}).to_list()
    entries = {e["id"]: e for cell in cells for e in cell["entries"]}
    assert (entries[high[1]["id"]]["rating_average"], entries[high[1]["id"]]["rating_count"]) \
        == (5.0, 1)
    assert (entries[low[1]["id"]]["rating_average"], entries[low[1]["id"]]["rating_count"]) \
        == (2.0, 1)
    assert len(entries) == 3
