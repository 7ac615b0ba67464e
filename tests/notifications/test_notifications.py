"""In-app notifications: stored once per key for one user, read only by that user."""

from datetime import timedelta

import pytest

from app.core import clock
from app.core.database import transaction
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


async def test_the_owner_marks_a_notification_read_and_lists_unread_ones(api, mongo_db):
    buyer = await api.customer()
    stranger = await api.customer()
    for key in ("note-old", "note-new"):
        assert await _notify(buyer.id, key)
        clock.advance(timedelta(seconds=1))
    assert (await _mine(api, buyer))["unreadCount"] == 2

    def mark(account, notification_id: str, body: object):
        return api.client.patch(f"{NOTIFICATIONS}/{notification_id}", json=body,
                                headers=account.headers)

    # Someone else's notification, or none at all: not found, and nothing changes.
    assert_error(await mark(stranger, "note-old", {"read": True}), 404)
    assert_error(await mark(buyer, "note-missing", {"read": True}), 404)
    for body in ({"read": False}, {}, {"read": True, "kind": "other"}, {"read": "yes"}):
        assert_error(await mark(buyer, "note-old", body), 422)
    assert_error(await api.client.patch(f"{NOTIFICATIONS}/note-old", json={"read": True}), 401)
    assert await mongo_db.notifications.count_documents({"read_at": {"$ne": None}}) == 0

    response = await mark(buyer, "note-old", {"read": True})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["data"]["id"] == "note-old"
    read_at = body["data"]["readAt"]
    assert read_at
    stored = await mongo_db.notifications.find_one({"_id": "note-old"})
    assert stored["read_at"] is not None
    clock.advance(timedelta(seconds=5))
    again = await mark(buyer, "note-old", {"read": True})  # already read: keeps its time
    assert again.status_code == 200 and again.json()["data"]["readAt"] == read_at

    unread = await _mine(api, buyer, unread="true")
    assert [n["id"] for n in unread["items"]] == ["note-new"] and unread["unreadCount"] == 1
    read = await _mine(api, buyer, unread="false")
    assert [n["id"] for n in read["items"]] == ["note-old"]
    assert [n["id"] for n in (await _mine(api, buyer))["items"]] == ["note-new", "note-old"]
    assert (await _mine(api, stranger))["unreadCount"] == 0


async def test_a_notification_of_a_rolled_back_change_is_never_written(api, mongo_db):
    buyer = await api.customer()

    async def change(session, fail: bool):
        await notifications.notify(session, key=f"change-{fail}", user_id=buyer.id,
                                   kind="order_shipped", subject_type="order",
                                   subject_id="ord_1", message="shipped")
        if fail:
            raise RuntimeError("the change failed after writing its notification")

    with pytest.raises(RuntimeError):
        await transaction(lambda session: change(session, True))
    await transaction(lambda session: change(session, False))

    [stored] = await mongo_db.notifications.find({"user_id": buyer.id}).to_list()
    # The committed one was pushed after its commit (claimed once, marked).
    assert (stored["_id"], stored["push_claims"]) == ("change-False", 1)
    assert stored["pushed_at"] is not None and "push_after" not in stored
