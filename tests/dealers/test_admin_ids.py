"""An admin's user id is shown to admins only: the dealer sees that an admin acted."""

from tests.helpers import Api
from tests.orders.factories import move, part, pay, placed, shop


async def test_dealer_sees_its_status_history_without_admin_ids_admins_see_them(api: Api):
    seller = await shop(api)
    ops = await api.admin("ops")
    suspended = await api.client.patch(
        f"/api/dealers/{seller.dealer_id}/status",
        json={"action": "suspend", "reason": "GST filing lapsed"}, headers=ops.headers)
    assert suspended.status_code == 200, suspended.text
    assert (await api.set_status(ops, seller.account.id, "active", "may read")).status_code == 200
    await api.login(seller.account)
    root = await api.root_admin()

    own = await api.client.get("/api/dealers/me", headers=seller.account.headers)
    as_admin = await api.client.get(f"/api/dealers/{seller.dealer_id}", headers=ops.headers)

    assert own.status_code == 200 and as_admin.status_code == 200
    own_history = own.json()["data"]["statusHistory"]
    admin_history = as_admin.json()["data"]["statusHistory"]
    assert [e["action"] for e in own_history] == ["submit", "approve", "suspend"]
    assert [e["by"] for e in own_history] == [seller.account.id, {"role": "admin"},
                                              {"role": "admin"}]
    assert [e["by"] for e in admin_history] == [seller.account.id, root.id, ops.id]
    assert ops.id not in own.text and root.id not in own.text


async def test_buyer_and_dealer_see_an_admin_override_on_an_order_without_its_id(api: Api):
    seller = await shop(api)
    buyer = await api.customer()
    order = await placed(api, buyer, ((await part(api, seller))["id"], 1))
    await pay(order["id"])
    ops = await api.admin("ops_lead")
    cancelled = await move(api, ops, order["id"], "cancel", reason="Listing was fraudulent")
    assert cancelled.status_code == 200, cancelled.text

    for account in (buyer, seller.account):
        seen = await api.client.get(f"/api/orders/{order['id']}", headers=account.headers)
        assert seen.status_code == 200, seen.text
        last = seen.json()["data"]["statusHistory"][-1]
        assert (last["action"], last["role"], last["by"]) == ("cancel", "admin", {"role": "admin"})
        assert ops.id not in seen.text
    as_admin = await api.client.get(f"/api/orders/{order['id']}", headers=ops.headers)
    assert as_admin.json()["data"]["statusHistory"][-1]["by"] == ops.id
