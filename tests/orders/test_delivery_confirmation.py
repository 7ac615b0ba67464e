"""Shipped orders nobody confirms: a reminder a day before, then the system confirms."""

from datetime import timedelta

from app.core import clock
from app.orders import tasks
from tests.orders.factories import move, part, pay, placed, shop

SHIPPING = {"carrier": "BlueDart", "trackingNumber": "BD778899"}


async def _shipped_order(api):
    seller = await shop(api)
    product = await part(api, seller, b2c=60_000)
    buyer = await api.customer()
    order = await placed(api, buyer, (product["id"], 1))
    await pay(order["id"])
    assert (await move(api, seller.account, order["id"], "pack")).status_code == 200
    assert (await move(api, seller.account, order["id"], "ship", **SHIPPING)).status_code == 200
    return buyer, order["id"]


def _travel(monkeypatch, days: float) -> None:
    moment = clock.utcnow() + timedelta(days=days)
    monkeypatch.setattr(clock, "utcnow", lambda: moment)


async def test_buyer_is_reminded_a_day_before_and_then_delivery_is_confirmed(api, monkeypatch):
    buyer, order_id = await _shipped_order(api)

    await tasks.confirm_deliveries()
    notes = (await api.client.get("/api/notifications", headers=buyer.headers)).json()
    # Shipping told the buyer; no reminder yet.
    assert [n["kind"] for n in notes["data"]["items"]] == ["order_shipped"]

    _travel(monkeypatch, days=6.5)
    await tasks.confirm_deliveries()
    await tasks.confirm_deliveries()
    notes = (await api.client.get("/api/notifications", headers=buyer.headers)).json()
    reminders = [n for n in notes["data"]["items"] if n["kind"] != "order_shipped"]
    assert [(n["kind"], n["subjectId"]) for n in reminders] == [("delivery_reminder", order_id)]
    order = (await api.client.get(f"/api/orders/{order_id}", headers=buyer.headers)).json()
    assert order["data"]["status"] == "shipped"

    monkeypatch.undo()
    _travel(monkeypatch, days=7.5)
    await tasks.confirm_deliveries()
    order = (await api.client.get(f"/api/orders/{order_id}", headers=buyer.headers)).json()
    assert order["data"]["status"] == "delivered"
    last = order["data"]["statusHistory"][-1]
    assert (last["action"], last["role"]) == ("deliver", "system")
