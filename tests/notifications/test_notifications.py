"""In-app notifications: stored once per key for one user, read only by that user."""

from datetime import timedelta

from app.core import clock
from app.notifications import service as notifications
from tests.helpers import assert_error

NOTIFICATIONS = "/api/notifications"


async def _notify(user_id: str, key: str, message: str = "Your order ships today") -> bool:
    return await notifications.notify(
        None, key=key, user_id=user_id, kind="delivery_reminder", subject_type="order",
        subject_id=f"ord_{key}", message=message,
    )


async def _mine(api, account, **params) -> dict:
    response = await api.client.get(NOTIFICATIONS, params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def test_a_notification_is_stored_once_per_key_and_listed_to_its_user(api, mongo_db):
    buyer = await api.customer()

    assert await _notify(buyer.id, "reminder-1") is True
    assert await _notify(buyer.id, "reminder-1", "a rerun of the job") is False

    [listed] = (await _mine(api, buyer))["items"]
    assert listed["id"] == "reminder-1"
    assert (listed["kind"], listed["subjectType"], listed["subjectId"]) == (
        "delivery_reminder", "order", "ord_reminder-1")
    assert listed["message"] == "Your order ships today"
    assert listed["readAt"] is None and listed["createdAt"]
    stored = await mongo_db["notifications"].find({}).to_list()
    assert [(n["_id"], n["user_id"]) for n in stored] == [("reminder-1", buyer.id)]


async def test_notifications_are_listed_newest_first_in_pages(api):
    buyer = await api.customer()
    for number in range(3):
        assert await _notify(buyer.id, f"note-{number}")
        clock.advance(timedelta(seconds=1))

    first = await _mine(api, buyer, limit=2)
    assert [n["id"] for n in first["items"]] == ["note-2", "note-1"]
    rest = await _mine(api, buyer, limit=2, cursor=first["nextCursor"])
    assert [n["id"] for n in rest["items"]] == ["note-0"]
    assert rest["nextCursor"] is None


async def test_someone_elses_notifications_are_not_visible(api):
    buyer = await api.customer()
    assert await _notify(buyer.id, "reminder-1")
    stranger = await api.customer()
    admin = await api.admin("ops")

    for other in (stranger, admin):
        assert (await _mine(api, other))["items"] == []
    assert [n["id"] for n in (await _mine(api, buyer))["items"]] == ["reminder-1"]
    assert_error(await api.client.get(NOTIFICATIONS), 401)
