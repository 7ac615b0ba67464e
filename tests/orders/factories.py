"""Order stories: a shop (an approved dealer) with parts, buyers, orders at each stage."""

from dataclasses import dataclass
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from app.core.database import transaction
from app.orders import service as orders_service
from tests.catalog import factories as catalog_factories
from tests.helpers import Account, Api

ADDRESS = {
    "name": "Asha Rao",
    "phone": "+919876543210",
    "line1": "4 Residency Road",
    "city": "Bengaluru",
    "state": "Karnataka",
    "pincode": "560025",
}
B2B_GSTIN = catalog_factories.B2B_GSTIN


@dataclass
class Shop:
    account: Account
    dealer_id: str


async def shop(api: Api, admin: Account | None = None) -> Shop:
    account, dealer_id = await catalog_factories.approved_dealer(api, admin)
    return Shop(account, dealer_id)


async def part(
    api: Api, seller: Shop, b2c: int = 60_000, b2b: int | None = None, stock: int = 10,
    **overrides: Any,
) -> dict[str, Any]:
    """A listed product priced `b2c` (and `b2b`, default just below it) with `stock` units."""
    b2b = b2b if b2b is not None else max(b2c - 10_000, 1)
    return await catalog_factories.listed_product(
        api, seller.account, b2cPrice=b2c, b2bPrice=b2b, mrp=max(b2b, b2c) + 10_000,
        stock=stock, **overrides,
    )


def order_body(*lines: tuple[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "items": [{"productId": pid, "quantity": quantity} for pid, quantity in lines],
        "deliveryAddress": ADDRESS,
        **extra,
    }


async def place(
    api: Api, buyer: Account, *lines: tuple[str, Any], dry_run: bool = False
) -> httpx.Response:
    params = {"dryRun": "true"} if dry_run else None
    return await api.client.post(
        "/api/orders", json=order_body(*lines), params=params, headers=buyer.headers
    )


async def placed(api: Api, buyer: Account, *lines: tuple[str, Any]) -> dict[str, Any]:
    response = await place(api, buyer, *lines)
    assert response.status_code == 201, response.text
    return response.json()["data"]


async def pay(order_id: str, payment_id: str = "pay_test_1") -> None:
    """What the payments domain does on capture (it has no HTTP route of its own here): the
    order paid in the capture's transaction, then its reserved stock sold."""
    await transaction(lambda session: orders_service.mark_paid(session, order_id, payment_id))
    await orders_service.commit_sold_stock(order_id)


async def move(api: Api, account: Account, order_id: str, action: str, **extra: Any) -> httpx.Response:
    return await api.client.patch(
        f"/api/orders/{order_id}/status", json={"action": action, **extra},
        headers=account.headers,
    )


async def get(api: Api, account: Account, order_id: str) -> httpx.Response:
    return await api.client.get(f"/api/orders/{order_id}", headers=account.headers)


async def stock(db: AsyncDatabase, product_id: str) -> dict[str, int]:
    """The product's inventory document, read from the database."""
    doc = await db.inventory.find_one({"_id": product_id})
    assert doc is not None
    return {"quantity": doc["quantity"], "reserved": doc["reserved_count"],
            "available": doc["available"]}


async def order_count(db: AsyncDatabase) -> int:
    return await db.orders.count_documents({})


async def order_doc(db: AsyncDatabase, order_id: str) -> dict[str, Any]:
    doc = await db.orders.find_one({"_id": order_id})
    assert doc is not None
    return doc


async def set_pricing_rules(api: Api, admin: Account, **changes: Any) -> None:
    """Change some pricing rules (camelCase names), keeping the rest."""
    current = await api.client.get("/api/admin/pricing-rules", headers=admin.headers)
    assert current.status_code == 200, current.text
    response = await api.client.put(
        "/api/admin/pricing-rules", json={**current.json()["data"], **changes},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text


async def suspend_dealer(api: Api, admin: Account, dealer_id: str) -> None:
    response = await api.client.patch(
        f"/api/dealers/{dealer_id}/status",
        json={"action": "suspend", "reason": "Compliance review pending"},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
