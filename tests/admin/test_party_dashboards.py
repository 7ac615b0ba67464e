"""The dealer's and the technician's own dashboards: each figure as the domains hold it, read
with a bounded number of queries; other roles and unapproved profiles are refused."""

from datetime import timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from app.core import clock
from app.core.config import Settings
from app.core.database import transaction
from app.core.ids import new_id
from app.core.permissions import SYSTEM_ACTOR
from app.payments.ledger import accounts
from app.payments.ledger import service as ledger
from app.payments.ledger.service import Transfer
from tests.commands import CommandCounter
from tests.dealers.factories import submitted_dealer
from tests.helpers import Api, assert_error
from tests.orders import factories as order_factories
from tests.payments.factories import Payments, Purchase
from tests.payouts import factories as payout_factories
from tests.repairs.factories import HOME, assignment, book_hardware, data_of, technician_near

AUTH = ["find users"]
DEALER_DASHBOARD = "/api/dealers/me/dashboard"
TECHNICIAN_DASHBOARD = "/api/technicians/me/dashboard"


async def _paid(pay: Payments, shop: order_factories.Shop, product_id: str) -> Purchase:
    buyer = await pay.api.customer()
    order = await order_factories.placed(pay.api, buyer, (product_id, 1))
    started = await pay.start(buyer, order["id"])
    assert started.status_code == 201, started.text
    purchase = Purchase(shop, buyer, order, started.json()["data"])
    assert (await pay.checkout(purchase, deliver_webhook=False)).status_code == 200
    verified = await pay.verify(purchase)
    assert verified.status_code == 200, verified.text
    purchase.payment = verified.json()["data"]
    return purchase


async def test_dealer_dashboard_shows_orders_money_payouts_and_low_stock(
    pay: Payments, mongo_db: AsyncDatabase
):
    api = pay.api
    shop = await order_factories.shop(api)
    scarce = await order_factories.part(api, shop, b2c=55_000, stock=3)
    plenty = await order_factories.part(api, shop, b2c=60_000, stock=20)
    unpaid = await order_factories.placed(api, await api.customer(), (plenty["id"], 1))
    held = await _paid(pay, shop, plenty["id"])
    released = await _paid(pay, shop, scarce["id"])
    for account, action, extra in (
        (shop.account, "pack", {}),
        (shop.account, "ship", {"carrier": "BlueDart", "trackingNumber": "BD123456"}),
        (released.buyer, "deliver", {}),
    ):
        moved = await order_factories.move(api, account, released.order["id"], action, **extra)
        assert moved.status_code == 200, moved.text
    assert (await pay.release(released.payment["id"])).status_code == 200
    finance = await pay.finance()
    registered = await payout_factories.register_account(api, shop.account)
    assert registered.status_code == 201, registered.text
    await payout_factories.verify_account(api, finance, registered.json()["data"]["id"])
    payout = await payout_factories.pay_out(api, finance, shop.dealer_id, amount=10_000)
    assert payout.status_code == 201, payout.text
    assert (await payout_factories.settled(api, finance, payout.json()["data"]["id"]))[
        "status"] == "paid"

    response = await api.client.get(DEALER_DASHBOARD, headers=shop.account.headers)

    data = data_of(response)
    assert data["dealerId"] == shop.dealer_id  # not captured by /api/dealers/{dealerId}
    assert data["ordersByStatus"]["pending_payment"] == 1
    assert data["ordersByStatus"]["paid"] == 1 and data["ordersByStatus"]["completed"] == 1
    assert sum(data["ordersByStatus"].values()) == 3
    assert data["salesThisMonth"] == held.order["total"] + released.order["total"]
    assert unpaid["total"] > 0
    payable = await ledger.cached_balance(accounts.payable(shop.dealer_id))
    assert payable == await ledger.balance(accounts.payable(shop.dealer_id)) > 0
    assert data["payable"] == payable
    assert data["pendingEscrow"] == held.payment["amount"]
    assert data["pendingEscrow"] == await ledger.balance(accounts.escrow(held.payment["id"]))
    assert data["paidOut"] == 10_000
    assert data["lowStock"]["count"] == 1 and data["lowStock"]["threshold"] == 5
    [low] = data["lowStock"]["items"]
    assert low["productId"] == scarce["id"] and low["available"] == 2 and low["lowStock"] is True
    stock = await mongo_db.inventory.find_one({"_id": scarce["id"]})
    assert stock["available"] == 2


class TestBudgets:
    @pytest.fixture
    def config(self, config: Settings) -> Settings:
        """Budgets count a request's own commands: no background job runs beside it."""
        return config.model_copy(update={"background_tasks_enabled": False})

    async def test_dealer_dashboard_budget_and_refusals(self, commands: CommandCounter,
                                                        api: Api):
        shop = await order_factories.shop(api)
        product = await order_factories.part(api, shop, stock=4)
        await order_factories.placed(api, await api.customer(), (product["id"], 1))

        response = await api.client.get(DEALER_DASHBOARD, headers=shop.account.headers)

        data = data_of(response)
        assert data["ordersByStatus"]["pending_payment"] == 1 and data["salesThisMonth"] == 0
        assert data["lowStock"]["count"] == 1
        # The dealer; orders by status and the month's sales (aggregates over the dealer's
        # indexes); the low-stock count with the lowest few and their labels; the payable's
        # cached balance; escrow held (ledger entries by recipient); paid payouts.
        commands.assert_commands(response, exactly=[
            *AUTH, "find dealers", "aggregate orders", "aggregate inventory", "find products",
            "aggregate orders", "find ledger_balances", "aggregate ledger_entries",
            "aggregate payouts",
        ])

        # Other roles are refused, and so is a dealer or technician not approved yet (a dealer
        # as by its other dealer-only routes); each dashboard is its own role's.
        customer = await api.customer()
        ops = await api.admin("ops")
        for path in (DEALER_DASHBOARD, TECHNICIAN_DASHBOARD):
            for caller in (customer, ops):
                assert_error(await api.client.get(path, headers=caller.headers), 403)
            assert_error(await api.client.get(path), 401)
        pending_dealer, _ = await submitted_dealer(api)
        refused = assert_error(await api.client.get(DEALER_DASHBOARD,
                                                    headers=pending_dealer.headers), 403)
        product = await api.client.post("/api/products", json={},
                                        headers=pending_dealer.headers)
        assert refused["message"] == assert_error(product, 403)["message"]
        assert_error(await api.client.get(TECHNICIAN_DASHBOARD,
                                          headers=(await api.technician()).headers), 403)
        assert_error(await api.client.get(TECHNICIAN_DASHBOARD, headers=shop.account.headers),
                     403)

    async def test_technician_dashboard_counts_offers_and_earnings(
        self, commands: CommandCounter, api: Api, mongo_db: AsyncDatabase
    ):
        technician, profile = await technician_near(api, HOME)
        declined = await book_hardware(api, await api.customer(), *HOME)
        assert declined["offer"]["technicianId"] == profile["id"]
        data_of(await assignment(api, technician, declined["id"], "decline"))
        offered = await book_hardware(api, await api.customer(), *HOME)
        await mongo_db.technicians.update_one({"_id": profile["id"]}, {"$set": {
            "rating_average": 4.5, "rating_count": 2, "rating_sum": 9,
            "rating_distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1}}})
        clock.advance(-timedelta(days=40))
        await _release_to(profile["id"], 7_000)  # last month: not this month's earnings
        clock.reset()
        await _release_to(profile["id"], 9_000)

        response = await api.client.get(TECHNICIAN_DASHBOARD, headers=technician.headers)

        data = data_of(response)
        assert data["technicianId"] == profile["id"]
        assert data["liveOffer"]["id"] == offered["id"]
        assert data["liveOffer"]["offer"]["technicianId"] == profile["id"]
        assert data["offers"] == {"received": 2, "accepted": 0, "declined": 1, "expired": 0,
                                  "withdrawn": 0, "acceptanceRate": 0.0}
        assert data["jobsByStatus"]["accepted"] == 0
        assert data["earningsThisMonth"] == 9_000
        assert data["payable"] == 16_000
        assert data["rating"] == {"average": 4.5, "count": 2,
                                  "distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1}}
        # The technician; the live offer (repairs by offered technician); jobs by status;
        # the offer tally; the month's releases; the payable's cached balance.
        commands.assert_commands(response, exactly=[
            *AUTH, "find technicians", "find repairs", "aggregate repairs",
            "find repair_offer_tallies", "aggregate ledger_transactions", "find ledger_balances",
        ])

        data_of(await assignment(api, technician, offered["id"], "accept"))
        after = data_of(await api.client.get(TECHNICIAN_DASHBOARD, headers=technician.headers))
        assert after["liveOffer"] is None and after["jobsByStatus"]["accepted"] == 1
        assert after["offers"]["accepted"] == 1 and after["offers"]["acceptanceRate"] == 0.5
        tally = await mongo_db.repair_offer_tallies.find_one({"_id": profile["id"]})
        assert (tally["received"], tally["accepted"], tally["declined"]) == (2, 1, 1)


async def _release_to(technician_id: str, share: int) -> None:
    """Money for the technician the way the escrow moves it: captured, then released (its share
    to its payable, the commission to the platform)."""
    payment_id = new_id("pay")
    escrow = accounts.escrow(payment_id)
    steps: list[tuple[str, str, list[Transfer]]] = [
        (f"capture:{payment_id}", "capture",
         [Transfer(accounts.GATEWAY_CLEARING, escrow, share + 1_000)]),
        (f"release:{payment_id}", "release",
         [Transfer(escrow, accounts.payable(technician_id), share),
          Transfer(escrow, accounts.PLATFORM_REVENUE, 1_000)]),
    ]
    for key, kind, transfers in steps:
        async def work(session: Any, key: str = key, kind: str = kind,
                       transfers: list[Transfer] = transfers) -> None:
            await ledger.post(session, key=key, kind=kind, transfers=transfers,
                              actor=SYSTEM_ACTOR, payment_id=payment_id,
                              recipient_id=technician_id)

        await transaction(work)
