"""The ledger's own guarantees, exercised against the real database."""

import asyncio

import pytest
from pymongo.errors import DuplicateKeyError

from app.core.database import transaction
from app.core.permissions import SYSTEM_ACTOR
from app.payments.ledger import accounts
from app.payments.ledger import service as ledger
from app.payments.ledger.service import InsufficientBalance, Transfer


async def _post(key: str, *transfers: Transfer, payment_id: str | None = None):
    async def work(session):
        return await ledger.post(session, key=key, kind="test", transfers=transfers,
                                 actor=SYSTEM_ACTOR, payment_id=payment_id)

    return await transaction(work)


async def test_capture_and_release_balance_and_verify(app):
    escrow = accounts.escrow("pay_1")
    await _post("capture:pay_1", Transfer(accounts.GATEWAY_CLEARING, escrow, 100_000),
                payment_id="pay_1")
    await _post(
        "release:pay_1",
        Transfer(escrow, accounts.payable("dlr_1"), 90_000),
        Transfer(escrow, accounts.PLATFORM_REVENUE, 10_000),
        payment_id="pay_1",
    )
    balances = await ledger.balances(
        [escrow, accounts.payable("dlr_1"), accounts.PLATFORM_REVENUE, accounts.GATEWAY_CLEARING]
    )
    assert balances == {escrow: 0, accounts.payable("dlr_1"): 90_000,
                        accounts.PLATFORM_REVENUE: 10_000, accounts.GATEWAY_CLEARING: -100_000}
    report = await ledger.verify({"pay_1": 0})
    assert report.valid, report.violations
    assert report.checked_transactions == 2


async def test_same_key_posts_once(app):
    escrow = accounts.escrow("pay_2")
    await _post("capture:pay_2", Transfer(accounts.GATEWAY_CLEARING, escrow, 5_000))
    with pytest.raises(DuplicateKeyError):
        await _post("capture:pay_2", Transfer(accounts.GATEWAY_CLEARING, escrow, 5_000))
    assert await ledger.balance(escrow) == 5_000


async def test_constrained_account_never_goes_negative(app):
    escrow = accounts.escrow("pay_3")
    await _post("capture:pay_3", Transfer(accounts.GATEWAY_CLEARING, escrow, 1_000))
    with pytest.raises(InsufficientBalance):
        await _post("refund:pay_3", Transfer(escrow, accounts.REFUNDS, 1_001))
    assert await ledger.balance(escrow) == 1_000
    assert await ledger.balance(accounts.REFUNDS) == 0
    assert (await ledger.verify({"pay_3": 1_000})).valid


async def test_concurrent_drains_of_one_escrow_move_money_once(app):
    escrow = accounts.escrow("pay_4")
    await _post("capture:pay_4", Transfer(accounts.GATEWAY_CLEARING, escrow, 10_000))
    attempts = [
        _post(f"refund:pay_4:{n}", Transfer(escrow, accounts.REFUNDS, 10_000)) for n in range(20)
    ]
    results = await asyncio.gather(*attempts, return_exceptions=True)
    succeeded = [r for r in results if not isinstance(r, BaseException)]
    assert len(succeeded) == 1
    assert all(isinstance(r, InsufficientBalance) for r in results if isinstance(r, BaseException))
    assert await ledger.balance(escrow) == 0
    assert await ledger.balance(accounts.REFUNDS) == 10_000
    assert (await ledger.verify()).valid


async def test_verify_reports_tampering(app, config):
    from pymongo import AsyncMongoClient

    escrow = accounts.escrow("pay_5")
    await _post("capture:pay_5", Transfer(accounts.GATEWAY_CLEARING, escrow, 2_000))
    client = AsyncMongoClient(config.database.mongodb_url)
    db = client[config.database.mongodb_db]
    await db.ledger_entries.update_one({"account": escrow}, {"$set": {"amount": 3_000}})
    report = await ledger.verify({"pay_5": 2_000})
    await client.close()
    rules = {violation["rule"] for violation in report.violations}
    assert not report.valid
    assert {"entries_mismatch", "cached_balance_mismatch", "escrow_mismatch"} <= rules


async def test_non_positive_amounts_are_refused(app):
    for amount in (0, -5):
        with pytest.raises(ValueError):
            await _post(f"bad:{amount}", Transfer(accounts.GATEWAY_CLEARING, "x", amount))
