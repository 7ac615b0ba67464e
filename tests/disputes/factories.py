"""Dispute factories over the payments stories: open, add notes, resolve — all through the API."""

from typing import Any

import httpx

from tests.helpers import Account
from tests.payments.factories import Payments, Purchase, idem

DETAILS = "The phone screen arrived cracked across the top corner."


class Disputes:
    def __init__(self, pay: Payments) -> None:
        self.pay, self.api, self.client = pay, pay.api, pay.client
        self._lead: Account | None = None
        self._auditor: Account | None = None

    async def lead(self) -> Account:
        if self._lead is None:
            self._lead = await self.api.admin("ops_lead")
        return self._lead

    async def auditor(self) -> Account:
        if self._auditor is None:
            self._auditor = await self.api.admin("compliance")
        return self._auditor

    async def open(self, purchase: Purchase, as_: Account | None = None,
                   **body: Any) -> httpx.Response:
        account = as_ or purchase.buyer
        payload = {"orderId": purchase.order["id"], "reason": "damaged", "details": DETAILS,
                   **body}
        return await self.client.post("/api/disputes", json=payload, headers=account.headers)

    async def opened(self, purchase: Purchase) -> dict[str, Any]:
        response = await self.open(purchase)
        assert response.status_code == 201, response.text
        return response.json()["data"]

    async def get(self, dispute_id: str, as_: Account) -> httpx.Response:
        return await self.client.get(f"/api/disputes/{dispute_id}", headers=as_.headers)

    async def note(self, dispute_id: str, as_: Account, text: str) -> httpx.Response:
        return await self.client.post(f"/api/disputes/{dispute_id}/notes", json={"text": text},
                                      headers=as_.headers)

    async def patch(self, dispute_id: str, body: dict[str, Any], admin: Account | None = None,
                    **headers: str) -> httpx.Response:
        """PATCH with a fresh Idempotency-Key unless `headers` carry one."""
        admin = admin or await self.lead()
        return await self.client.patch(f"/api/admin/disputes/{dispute_id}", json=body,
                                       headers={**admin.headers, **(headers or idem())})

    async def resolve(self, dispute_id: str, resolution: str, buyer_amount: Any = None,
                      admin: Account | None = None, note: str = "Photos confirm the damage",
                      **headers: str) -> httpx.Response:
        body: dict[str, Any] = {"resolution": resolution, "note": note}
        if buyer_amount is not None:
            body["buyerAmount"] = buyer_amount
        return await self.patch(dispute_id, body, admin, **headers)

    async def audited(self, action: str, subject_id: str, count: int = 1) -> list[dict[str, Any]]:
        return await self.api.audited(await self.auditor(), action, subject_id, count)
