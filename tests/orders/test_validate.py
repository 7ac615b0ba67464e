"""Re-validating a pending order (POST /validate and the payments' service function)."""

import pytest

from app.core.errors import Forbidden, NotFound, RuleViolation
from app.core.permissions import Actor, Role
from app.orders import service as orders_service
from tests.helpers import assert_error
from tests.orders.factories import (
    part,
    pay,
    placed,
    set_pricing_rules,
    shop,
    suspend_dealer,
)


async def _validate(api, account, order_id):
    return await api.client.post(f"/api/orders/{order_id}/validate", headers=account.headers)


async def test_pending_order_validates_with_its_own_reservation_counting(api):
    seller = await shop(api)
    screen = await part(api, seller, b2c=60_000, stock=2)
    buyer = await api.customer()
    order = await placed(api, buyer, (screen["id"], 2))

    response = await _validate(api, buyer, order["id"])

    assert response.status_code == 200, response.text
    quote = response.json()["data"]
    assert quote["orderId"] == order["id"] and quote["ruleFlags"] == []
    assert (quote["subtotal"], quote["deliveryCharge"], quote["total"]) == (
        order["subtotal"], order["deliveryCharge"], order["total"]
    )
    assert (await _validate(api, seller.account, order["id"])).status_code == 200


async def test_changed_price_fails_validation(api):
    seller = await shop(api)
    screen = await part(api, seller, b2c=60_000, stock=5)
    buyer = await api.customer()
    order = await placed(api, buyer, (screen["id"], 1))
    repriced = await api.client.patch(
        f"/api/products/{screen['id']}", json={"b2cPrice": 65_000},
        headers=seller.account.headers,
    )
    assert repriced.status_code == 200, repriced.text

    body = assert_error(await _validate(api, buyer, order["id"]), 422)

    assert body["data"]["ruleFlags"] == ["PRICE_CHANGED"]
    assert body["data"]["quote"]["subtotal"] == 65_000


async def test_changed_platform_charges_fail_validation(api):
    seller = await shop(api)
    screen = await part(api, seller, b2c=60_000, stock=5)
    buyer = await api.customer()
    order = await placed(api, buyer, (screen["id"], 1))
    admin = await api.root_admin()
    await set_pricing_rules(api, admin, serviceFee=1_000)

    body = assert_error(await _validate(api, buyer, order["id"]), 422)

    assert body["data"]["ruleFlags"] == ["PRICE_CHANGED"]


async def test_paused_product_and_suspended_dealer_fail_validation(api):
    seller = await shop(api)
    screen = await part(api, seller, stock=5)
    buyer = await api.customer()
    first = await placed(api, buyer, (screen["id"], 1))
    second = await placed(api, buyer, (screen["id"], 1))
    ops = await api.admin("ops")
    paused = await api.client.patch(
        f"/api/products/{screen['id']}", json={"status": "paused", "reason": "Safety recall"},
        headers=ops.headers,
    )
    assert paused.status_code == 200, paused.text

    assert assert_error(await _validate(api, buyer, first["id"]), 422)["data"]["ruleFlags"] == [
        "PRODUCT_UNAVAILABLE"
    ]
    await suspend_dealer(api, ops, seller.dealer_id)
    flags = assert_error(await _validate(api, buyer, second["id"]), 422)["data"]["ruleFlags"]
    assert "DEALER_UNAVAILABLE" in flags


async def test_only_orders_awaiting_payment_are_validated(api):
    seller = await shop(api)
    screen = await part(api, seller, stock=5)
    buyer = await api.customer()
    order = await placed(api, buyer, (screen["id"], 1))
    await pay(order["id"])

    body = assert_error(await _validate(api, buyer, order["id"]), 409)

    assert body["data"]["status"] == "paid"
    assert body["data"]["allowedActions"] == ["cancel"]


async def test_validate_for_payment_is_for_the_buyer_only(api):
    seller = await shop(api)
    screen = await part(api, seller, stock=5)
    buyer = await api.customer()
    order = await placed(api, buyer, (screen["id"], 1))
    other = await api.customer()

    valid = await orders_service.validate_for_payment(Actor.of(buyer.id, Role.CUSTOMER), order["id"])
    assert valid.id == order["id"] and valid.total == order["total"]
    with pytest.raises(NotFound):
        await orders_service.validate_for_payment(Actor.of(other.id, Role.CUSTOMER), order["id"])
    with pytest.raises(Forbidden):
        await orders_service.validate_for_payment(
            Actor.of(seller.account.id, Role.DEALER, dealer_id=seller.dealer_id), order["id"]
        )
    await api.client.patch(
        f"/api/products/{screen['id']}", json={"b2cPrice": 70_000}, headers=seller.account.headers
    )
    with pytest.raises(RuleViolation) as blocked:
        await orders_service.validate_for_payment(Actor.of(buyer.id, Role.CUSTOMER), order["id"])
    assert blocked.value.data["ruleFlags"] == ["PRICE_CHANGED"]
