"""What the governance console shows: the approvals queue and the dashboard's figures."""

from typing import Any

from tests.helpers import Account, Api


async def queued(api: Api, admin: Account, kind: str) -> list[dict[str, Any]]:
    """The approvals queue's items of one kind, oldest first (every page)."""
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        response = await api.client.get("/api/admin/approvals", params=params,
                                         headers=admin.headers)
        assert response.status_code == 200, response.text
        page = response.json()["data"]
        items += [item for item in page["items"] if item["kind"] == kind]
        if not page["nextCursor"]:
            return items
        params["cursor"] = page["nextCursor"]


async def pending(api: Api, admin: Account, kind: str) -> int:
    """The dashboard's count of decisions of one kind awaiting an admin."""
    response = await api.client.get("/api/admin/dashboard", headers=admin.headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]["pendingApprovals"][kind]
