"""Appeal stories: dealers and technicians suspended by an admin and signed in again."""

from typing import Any

import httpx

from tests.dealers.factories import approved_dealer
from tests.helpers import Account, Api
from tests.technicians.factories import approved_technician

SUSPENSION_REASON = "Counterfeit part complaints under review"


async def suspended_dealer(api: Api, admin: Account) -> tuple[Account, dict[str, Any]]:
    """An approved dealer suspended through its profile (its account follows), signed in
    again; the token of its first sign-in is returned in `stale_token` of the dict."""
    account, dealer = await approved_dealer(api)
    stale_token = account.token
    response = await api.client.patch(
        f"/api/dealers/{dealer['id']}/status",
        json={"action": "suspend", "reason": SUSPENSION_REASON}, headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    await api.login(account)
    return account, {**response.json()["data"], "stale_token": stale_token}


async def suspended_technician(api: Api, admin: Account) -> tuple[Account, dict[str, Any]]:
    account, technician = await approved_technician(api)
    response = await api.client.patch(
        f"/api/technicians/{technician['id']}/status",
        json={"action": "suspend", "reason": SUSPENSION_REASON}, headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    await api.login(account)
    return account, response.json()["data"]


async def file(api: Api, account: Account, **overrides: Any) -> httpx.Response:
    body = {"reason": "The complaints were about another shop",
            "details": "Invoices for every listed part are attached to my GST filing.",
            **overrides}
    return await api.client.post("/api/appeals", json=body, headers=account.headers)


async def decide(api: Api, admin: Account, appeal_id: str, action: str,
                 note: str = "Reviewed the evidence", **extra: Any) -> httpx.Response:
    return await api.client.patch(f"/api/admin/appeals/{appeal_id}",
                                  json={"action": action, "note": note, **extra},
                                  headers=admin.headers)
