"""Purchase stories against the live server: order, pay in the sandbox, verify, deliver."""

import itertools
from dataclasses import dataclass
from typing import Any

import httpx

from app.payments.ledger import accounts
from app.payments.ledger import service as ledger
from tests.helpers import Account, Api
from tests.live import LiveServer
from tests.orders import factories as order_factories

_keys = itertools.count(1)


def idem() -> dict[str, str]:
    return {"Idempotency-Key": f"test-key-{next(_keys):06d}"}


@dataclass
class Purchase:
    shop: order_factories.Shop
    buyer: Account
    order: dict[str, Any]
    payment: dict[str, Any]
    checkout: dict[str, Any] | None = None


class Payments:
    """The payments API spoken by a buyer, a dealer and admins of one live server."""

    def __init__(self, live: LiveServer, api: Api) -> None:
        self.live, self.api, self.client = live, api, api.client
        self._finance: Account | None = None

    async def finance(self) -> Account:
        if self._finance is None:
            self._finance = await self.api.admin("finance")
        return self._finance

    async def order(self, b2c: int = 60_000, quantity: int = 1) -> tuple[order_factories.Shop,
                                                                           Account, dict]:
        shop = await order_factories.shop(self.api)
        product = await order_factories.part(self.api, shop, b2c=b2c, stock=max(quantity, 10))
        buyer = await self.api.customer()
        order = await order_factories.placed(self.api, buyer, (product["id"], quantity))
        return shop, buyer, order

    async def start(self, buyer: Account, order_id: str, **headers: str) -> httpx.Response:
        return await self.client.post(
            "/api/payments", json={"orderId": order_id},
            headers={**buyer.headers, **(headers or idem())},
        )

    async def started(self, b2c: int = 60_000) -> Purchase:
        shop, buyer, order = await self.order(b2c)
        response = await self.start(buyer, order["id"])
        assert response.status_code == 201, response.text
        return Purchase(shop, buyer, order, response.json()["data"])

    async def checkout(self, purchase: Purchase, outcome: str = "success",
                       deliver_webhook: bool = True) -> httpx.Response:
        response = await self.live.checkout(
            purchase.payment["gatewayOrderId"], outcome, deliver_webhook
        )
        if response.status_code == 200:
            purchase.checkout = response.json()
        return response

    async def verify(self, purchase: Purchase, **tamper: str) -> httpx.Response:
        assert purchase.checkout is not None
        return await self.client.post(
            "/api/payments/verify", json={**purchase.checkout, **tamper},
            headers=purchase.buyer.headers,
        )

    async def paid(self, b2c: int = 60_000, deliver_webhook: bool = False) -> Purchase:
        purchase = await self.started(b2c)
        assert (await self.checkout(purchase, deliver_webhook=deliver_webhook)).status_code == 200
        response = await self.verify(purchase)
        assert response.status_code == 200, response.text
        purchase.payment = response.json()["data"]
        return purchase

    async def delivered(self, b2c: int = 60_000) -> Purchase:
        purchase = await self.paid(b2c)
        order_id = purchase.order["id"]
        dealer, buyer = purchase.shop.account, purchase.buyer
        for account, action, extra in (
            (dealer, "pack", {}),
            (dealer, "ship", {"carrier": "BlueDart", "trackingNumber": "BD123456"}),
            (buyer, "deliver", {}),
        ):
            response = await order_factories.move(self.api, account, order_id, action, **extra)
            assert response.status_code == 200, response.text
        return purchase

    async def payment(self, payment_id: str, as_: Account | None = None) -> dict[str, Any]:
        viewer = as_ or await self.finance()
        response = await self.client.get(f"/api/payments/{payment_id}", headers=viewer.headers)
        assert response.status_code == 200, response.text
        return response.json()["data"]

    async def order_status(self, purchase: Purchase) -> str:
        response = await self.client.get(
            f"/api/orders/{purchase.order['id']}", headers=purchase.buyer.headers
        )
        return response.json()["data"]["status"]

    async def release(self, payment_id: str, admin: Account | None = None,
                      body: dict[str, Any] | None = None, **headers: str) -> httpx.Response:
        admin = admin or await self.finance()
        return await self.client.patch(
            f"/api/payments/{payment_id}/release", json=body,
            headers={**admin.headers, **(headers or idem())},
        )

    async def refund(self, payment_id: str, amount: Any, admin: Account | None = None,
                     **headers: str) -> httpx.Response:
        admin = admin or await self.finance()
        return await self.client.post(
            f"/api/payments/{payment_id}/refunds", json={"amount": amount, "reason": "Damaged"},
            headers={**admin.headers, **(headers or idem())},
        )

    async def ledger_is_valid(self) -> dict[str, Any]:
        finance = await self.finance()
        response = await self.client.get("/api/admin/ledger/verify", headers=finance.headers)
        assert response.status_code == 200, response.text
        report = response.json()["data"]
        assert report["valid"], report
        return report

    async def sandbox(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.live.sandbox_url, timeout=30) as http:
            return await http.request(method, path, **kwargs)


async def balance(account: str) -> int:
    return await ledger.balance(account)


async def escrow_of(payment_id: str) -> int:
    return await ledger.balance(accounts.escrow(payment_id))
