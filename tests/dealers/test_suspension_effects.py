"""Suspending a dealer hides its listings and stops new orders; paid orders stay visible."""

from tests.orders.factories import part, pay, place, placed, shop


async def test_suspension_hides_listings_blocks_orders_and_keeps_paid_orders_visible(api):
    seller = await shop(api)
    product = await part(api, seller, b2c=60_000, stock=5)
    buyer = await api.customer()
    paid_order = await placed(api, buyer, (product["id"], 1))
    await pay(paid_order["id"])
    ops = await api.admin("ops")

    suspended = await api.client.patch(
        f"/api/dealers/{seller.dealer_id}/status",
        json={"action": "suspend", "reason": "GST filing lapsed"}, headers=ops.headers,
    )
    assert suspended.status_code == 200, suspended.text

    browse = await api.client.get("/api/products", params={"dealerId": seller.dealer_id})
    assert browse.json()["data"]["items"] == []
    assert (await api.client.get(f"/api/products/{product['id']}")).status_code == 404

    refused = await place(api, buyer, (product["id"], 1))
    assert refused.status_code == 422
    assert "DEALER_UNAVAILABLE" in refused.json()["data"]["ruleFlags"]

    admin_view = await api.client.get("/api/admin/orders",
                                      params={"dealerId": seller.dealer_id, "status": "paid"},
                                      headers=ops.headers)
    assert [o["id"] for o in admin_view.json()["data"]["items"]] == [paid_order["id"]]

    reinstated = await api.client.patch(
        f"/api/dealers/{seller.dealer_id}/status",
        json={"action": "reinstate", "reason": "Filing restored"}, headers=ops.headers,
    )
    assert reinstated.status_code == 200
    assert (await api.client.get(f"/api/products/{product['id']}")).status_code == 200
