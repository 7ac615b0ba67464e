"""Checkout rules: minimums, delivery charges, channels, and every rule flag."""

from app.orders import pricing
from app.orders.models import Channel
from app.platform_rules.schemas import DEFAULT_PRICING_RULES
from tests.catalog import factories as catalog_factories
from tests.dealers import factories as dealer_factories
from tests.helpers import assert_error
from tests.orders.factories import (
    B2B_GSTIN,
    Shop,
    order_count,
    part,
    place,
    placed,
    set_pricing_rules,
    shop,
    stock,
    suspend_dealer,
)


def flags(response) -> list[str]:
    return assert_error(response, 422)["data"]["ruleFlags"]


async def test_b2c_minimum_order_boundary(api, mongo_db):
    seller = await shop(api)
    below = await part(api, seller, b2c=49_999)
    at = await part(api, seller, b2c=50_000)
    buyer = await api.customer()

    assert flags(await place(api, buyer, (below["id"], 1))) == ["B2C_MINIMUM"]
    assert (await stock(mongo_db, below["id"]))["reserved"] == 0

    order = await placed(api, buyer, (at["id"], 1))
    assert (order["subtotal"], order["deliveryCharge"], order["total"]) == (50_000, 4_900, 54_900)


async def test_b2c_delivery_charge_boundary(api):
    seller = await shop(api)
    below = await part(api, seller, b2c=99_899)
    at = await part(api, seller, b2c=99_900)
    buyer = await api.customer()

    charged = await placed(api, buyer, (below["id"], 1))
    free = await placed(api, buyer, (at["id"], 1))

    assert (charged["deliveryCharge"], charged["total"]) == (4_900, 104_799)
    assert (free["deliveryCharge"], free["total"]) == (0, 99_900)


async def test_b2b_minimum_order_boundary(api, mongo_db):
    seller = await shop(api)
    below = await part(api, seller, b2b=999_999, b2c=1_200_000)
    at = await part(api, seller, b2b=1_000_000, b2c=1_200_000)
    buyer = await catalog_factories.b2b_buyer(api)

    assert flags(await place(api, buyer, (below["id"], 1))) == ["B2B_MINIMUM"]
    assert (await stock(mongo_db, below["id"]))["reserved"] == 0

    order = await placed(api, buyer, (at["id"], 1))
    assert order["channel"] == "b2b"
    assert (order["subtotal"], order["deliveryCharge"], order["total"]) == (
        1_000_000, 19_900, 1_019_900
    )


async def test_b2b_delivery_charge_boundary(api):
    seller = await shop(api)
    below = await part(api, seller, b2b=2_499_999, b2c=2_600_000)
    at = await part(api, seller, b2b=2_500_000, b2c=2_600_000)
    buyer = await catalog_factories.b2b_buyer(api)

    charged = await placed(api, buyer, (below["id"], 1))
    free = await placed(api, buyer, (at["id"], 1))

    assert (charged["deliveryCharge"], charged["total"]) == (19_900, 2_519_899)
    assert (free["deliveryCharge"], free["total"]) == (0, 2_500_000)


async def test_b2b_prices_apply_only_to_verified_business_buyers(api):
    seller = await shop(api)
    bulk = await part(api, seller, b2b=1_000_000, b2c=1_100_000)
    applicant = await api.customer(business={"legalName": "Pending Co", "gstin": B2B_GSTIN})
    verified = await catalog_factories.b2b_buyer(api)

    unverified_order = await placed(api, applicant, (bulk["id"], 1))
    verified_order = await placed(api, verified, (bulk["id"], 1))

    assert (unverified_order["channel"], unverified_order["items"][0]["unitPrice"]) == (
        "b2c", 1_100_000
    )
    assert (verified_order["channel"], verified_order["items"][0]["unitPrice"]) == (
        "b2b", 1_000_000
    )


async def test_min_b2b_quantity_applies_to_business_buyers(api):
    seller = await shop(api)
    tray = await part(api, seller, b2b=300_000, b2c=350_000, stock=20, minB2BQuantity=5)
    business = await catalog_factories.b2b_buyer(api)
    consumer = await api.customer()

    response = await place(api, business, (tray["id"], 4))
    assert flags(response) == ["MIN_B2B_QUANTITY"]
    [violation] = assert_error(response, 422)["data"]["violations"]
    assert violation["productId"] == tray["id"]

    assert (await placed(api, business, (tray["id"], 5)))["channel"] == "b2b"
    assert (await placed(api, consumer, (tray["id"], 1)))["channel"] == "b2c"


async def test_insufficient_stock_is_flagged_with_the_product(api, mongo_db):
    seller = await shop(api)
    screen = await part(api, seller, stock=3)
    buyer = await api.customer()

    response = await place(api, buyer, (screen["id"], 4))

    assert flags(response) == ["INSUFFICIENT_STOCK"]
    [violation] = assert_error(response, 422)["data"]["violations"]
    assert violation["productId"] == screen["id"] and "3" in violation["message"]
    assert await stock(mongo_db, screen["id"]) == {"quantity": 3, "reserved": 0, "available": 3}


async def test_inactive_paused_archived_and_unknown_products_are_unavailable(api, mongo_db):
    seller = await shop(api)
    admin = await api.root_admin()
    inactive, paused, archived, fine = [await part(api, seller) for _ in range(4)]
    headers = seller.account.headers
    assert (await api.client.patch(f"/api/products/{inactive['id']}", json={"status": "inactive"},
                                   headers=headers)).status_code == 200
    assert (await api.client.patch(
        f"/api/products/{paused['id']}", json={"status": "paused", "reason": "Counterfeit report"},
        headers=admin.headers,
    )).status_code == 200
    assert (await api.client.delete(f"/api/products/{archived['id']}",
                                    headers=headers)).status_code == 200
    buyer = await api.customer()

    for product_id in (inactive["id"], paused["id"], archived["id"], "prd_doesnotexist"):
        response = await place(api, buyer, (fine["id"], 1), (product_id, 1))
        assert flags(response) == ["PRODUCT_UNAVAILABLE"], response.text
        violations = assert_error(response, 422)["data"]["violations"]
        assert [v["productId"] for v in violations] == [product_id]

    assert await order_count(mongo_db) == 0
    assert (await stock(mongo_db, fine["id"]))["reserved"] == 0


async def test_suspended_dealer_takes_no_new_orders(api, mongo_db):
    seller = await shop(api)
    screen = await part(api, seller, stock=5)
    buyer = await api.customer()
    await placed(api, buyer, (screen["id"], 1))
    admin = await api.admin("ops")

    await suspend_dealer(api, admin, seller.dealer_id)
    response = await place(api, buyer, (screen["id"], 1))

    assert "DEALER_UNAVAILABLE" in flags(response)
    assert await order_count(mongo_db) == 1
    assert (await stock(mongo_db, screen["id"]))["reserved"] == 1


async def test_dealer_cannot_buy_its_own_parts_through_a_business_account(api, mongo_db):
    account, dealer = await dealer_factories.submitted_dealer(api, gstin=B2B_GSTIN)
    admin = await api.root_admin()
    approved = await api.client.patch(
        f"/api/dealers/{dealer['id']}/status", json={"action": "approve"}, headers=admin.headers
    )
    assert approved.status_code == 200, approved.text
    seller = Shop(account, dealer["id"])
    bulk = await part(api, seller, b2b=1_000_000, b2c=1_100_000)
    same_business = await catalog_factories.b2b_buyer(api)

    assert flags(await place(api, same_business, (bulk["id"], 1))) == ["SELF_PURCHASE"]
    assert await order_count(mongo_db) == 0


async def test_service_fee_and_delivery_charges_come_from_the_pricing_rules(api):
    admin = await api.root_admin()
    await set_pricing_rules(
        api, admin, serviceFee=1_500, b2cDeliveryCharge=7_000, b2cFreeDeliveryFrom=200_000
    )
    seller = await shop(api)
    screen = await part(api, seller, b2c=150_000)
    buyer = await api.customer()

    order = await placed(api, buyer, (screen["id"], 1))

    assert (order["subtotal"], order["deliveryCharge"], order["serviceFee"], order["total"]) == (
        150_000, 7_000, 1_500, 158_500
    )


async def test_every_broken_rule_is_reported_at_once(api):
    seller = await shop(api)
    small = await part(api, seller, b2c=10_000, stock=1)
    admin = await api.admin("ops")
    buyer = await api.customer()
    await suspend_dealer(api, admin, seller.dealer_id)

    found = flags(await place(api, buyer, (small["id"], 2)))

    assert set(found) == {"PRODUCT_UNAVAILABLE", "DEALER_UNAVAILABLE", "B2C_MINIMUM"}


class _Product:
    def __init__(self, **fields):
        defaults = dict(
            id="prd_1", dealer_id="dlr_1", sku="S", title="T", brand="B", category="display",
            b2b_price=100, b2c_price=100, mrp=100, status="active", min_b2b_quantity=None,
            dealer_listed=True, available=10,
        )
        self.__dict__.update(defaults | fields)


class _Dealer:
    id, user_id, gstin = "dlr_1", "usr_dealer", "29ABCDE1234F1Z5"


def test_dealer_user_buying_from_itself_is_a_self_purchase():
    rules = DEFAULT_PRICING_RULES.model_copy(update={"b2c_minimum_order": 0})
    quote = pricing.quote(
        pricing.aggregate([("prd_1", 1)]), {"prd_1": _Product()}, _Dealer(), True, rules,
        pricing.Buyer("usr_dealer", Channel.B2C),
    )
    assert quote.rule_flags == ["SELF_PURCHASE"]


def test_no_order_can_total_zero():
    free = DEFAULT_PRICING_RULES.model_copy(update={
        "b2c_minimum_order": 0, "b2c_delivery_charge": 0, "service_fee": 0,
    })
    quote = pricing.quote(
        pricing.aggregate([("prd_1", 1)]), {"prd_1": _Product(b2c_price=0)}, _Dealer(), True,
        free, pricing.Buyer("usr_buyer", Channel.B2C),
    )
    assert quote.total == 0 and quote.rule_flags == ["ZERO_TOTAL"]
