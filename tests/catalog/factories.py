"""Catalogue stories: an approved dealer, its listed products, buyers of each channel."""

import itertools
from typing import Any

from tests.dealers import factories as dealer_factories
from tests.helpers import Account, Api

_serial = itertools.count(1)
B2B_GSTIN = "27AAPFU0939F1ZV"


def product_body(**overrides: Any) -> dict[str, Any]:
    """A valid POST /api/products body with a fresh SKU and title; camelCase overrides."""
    n = next(_serial)
    return {
        "sku": f"SKU-{n:05d}",
        "title": f"OLED display assembly {n}",
        "brand": "Apple",
        "category": "display",
        "compatibleModels": ["iPhone 13"],
        "description": "Original-grade OLED panel with frame",
        "b2bPrice": 150_000,
        "b2cPrice": 199_900,
        "mrp": 249_900,
        "stock": 10,
        **overrides,
    }


async def approved_dealer(api: Api, admin: Account | None = None) -> tuple[Account, str]:
    """A signed-in dealer account whose profile an admin approved; returns (account, dealerId)."""
    account, dealer = await dealer_factories.approved_dealer(api, admin)
    return account, dealer["id"]


async def listed_product(
    api: Api, dealer: Account | tuple[Account, str], **overrides: Any
) -> dict[str, Any]:
    """POST a product as `dealer` (an account, or the pair from approved_dealer); its data."""
    account = dealer[0] if isinstance(dealer, tuple) else dealer
    response = await api.client.post(
        "/api/products", json=product_body(**overrides), headers=account.headers
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]


async def b2b_buyer(api: Api, admin: Account | None = None) -> Account:
    """A customer whose business (GSTIN) an admin verified: buys on the B2B channel."""
    buyer = await api.customer(business={"legalName": "Fixit Repairs LLP", "gstin": B2B_GSTIN})
    admin = admin or await api.root_admin()
    response = await api.client.patch(
        f"/api/users/{buyer.id}/business-verification", json={"action": "verify"},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["buyerType"] == "b2b"
    return buyer


async def stock_of(api: Api, dealer: Account, dealer_id: str, product_id: str) -> dict[str, Any]:
    """The product's line of its dealer's inventory, as the dealer sees it."""
    response = await api.client.get(
        f"/api/inventory/{dealer_id}", params={"limit": 100}, headers=dealer.headers
    )
    assert response.status_code == 200, response.text
    items = [item for item in response.json()["data"]["items"] if item["productId"] == product_id]
    assert len(items) == 1, response.text
    return items[0]
