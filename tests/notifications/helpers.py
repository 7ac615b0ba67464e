"""Reading one's notifications over the API and from the database."""

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from tests.helpers import Account, Api, eventually

NOTIFICATIONS = "/api/notifications"


async def mine(api: Api, account: Account, **params: Any) -> dict[str, Any]:
    response = await api.client.get(NOTIFICATIONS, params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    assert response.json()["success"] is True
    return response.json()["data"]


async def the_one(api: Api, db: AsyncDatabase, account: Account, kind: str,
                  subject_id: str) -> dict[str, Any]:
    """The account's single notification of `kind`, as listed and as stored (exactly one)."""
    async def stored_of_kind() -> list[dict[str, Any]]:
        return await db.notifications.find({"kind": kind, "user_id": account.id}).to_list()

    # Written in the change's transaction, then pushed after its commit and marked (a change
    # made by a webhook may be seen a moment before its push is marked).
    stored = await eventually(stored_of_kind, lambda docs: all(d["pushed_at"] for d in docs))
    listed = [n for n in (await mine(api, account, limit=100))["items"] if n["kind"] == kind]
    assert len(listed) == 1 and len(stored) == 1, (kind, listed, stored)
    assert listed[0]["subjectId"] == subject_id and stored[0]["_id"] == listed[0]["id"]
    assert "push_after" not in stored[0] and stored[0]["push_claims"] == 1
    return listed[0]


async def kinds_of(db: AsyncDatabase, user_id: str) -> list[str]:
    return sorted(n["kind"] for n in await db.notifications.find({"user_id": user_id}).to_list())
