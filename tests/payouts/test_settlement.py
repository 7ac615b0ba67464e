"""A payout is paid only when RazorpayX says `processed`; `reversed` and `failed` put the money
back in the payable balance, once, however often the news arrives, and a lost webhook is
made up for by the reconciler fetching the payout."""

from datetime import timedelta

import httpx
import pytest

from app.payments.ledger import accounts
from app.payments.ledger import service as ledger
from app.payouts import tasks as payout_tasks
from app.payouts.exceptions import ProviderError
from app.payouts.provider import PayoutDestination, get_provider
from tests.helpers import eventually
from tests.payouts.factories import (
    assert_ledger_valid,
    balance_of,
    bank_answers,
    pay_out,
    payee,
    razorpayx,
    read_payout,
    sandbox_payout,
    settled,
)


async def _processing_payout(api, live_server, amount: int = 60_000):  # type: ignore[no-untyped-def]
    """A payout RazorpayX has accepted and not yet settled (its bank answers on command)."""
    razorpayx(live_server).auto_process_payouts = False
    finance = await api.admin("finance")
    dealer, profile, _ = await payee(api, finance, payable=100_000)
    response = await pay_out(api, finance, profile["id"], amount)
    assert response.status_code == 201, response.text
    payout = response.json()["data"]
    assert (payout["status"], payout["providerStatus"]) == ("processing", "processing")
    return finance, dealer, profile, payout


async def _gateway_events(mongo_db, event: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return await mongo_db["gateway_events"].find({"event": event}).to_list()


async def _sandbox(live_server, method: str, path: str, **kwargs) -> httpx.Response:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(base_url=live_server.sandbox_url, timeout=30) as http:
        return await http.request(method, path, **kwargs)


async def test_a_payout_is_paid_only_after_payout_processed(api, live_server, mongo_db):
    finance, dealer, profile, payout = await _processing_payout(api, live_server)
    provider_id = payout["providerTransferId"]
    assert sandbox_payout(live_server, provider_id)["status"] == "processing"

    # Until the bank answers, the money is in transit: neither paid nor payable.
    summary = await balance_of(api, dealer, profile["id"])
    assert (summary["payable"], summary["inTransit"], summary["paidOut"]) == (40_000, 60_000, 0)
    assert await ledger.already_posted(f"payout:{payout['id']}:paid") is None
    assert (await read_payout(api, finance, payout["id"]))["paidAt"] is None

    await bank_answers(live_server, provider_id, "processed")

    paid = await settled(api, finance, payout["id"])
    assert (paid["status"], paid["providerStatus"], paid["allowedActions"]) == (
        "paid", "processed", [])
    assert paid["paidAt"] is not None
    summary = await balance_of(api, dealer, profile["id"])
    assert (summary["payable"], summary["inTransit"], summary["paidOut"]) == (40_000, 0, 60_000)
    assert await ledger.balance(accounts.PAYOUTS) == 60_000
    [event] = await _gateway_events(mongo_db, "payout.processed")
    assert event["outcome"] == "payout_paid"
    root = await api.root_admin()
    [entry] = await api.audited(root, "payout.paid", payout["id"])
    assert entry["metadata"]["providerTransferId"] == provider_id
    await assert_ledger_valid()


@pytest.mark.parametrize("outcome", ["reversed", "failed"])
async def test_reversed_or_failed_payout_returns_to_the_payable_balance(
    api, live_server, mongo_db, outcome
):
    finance, dealer, profile, payout = await _processing_payout(api, live_server)

    await bank_answers(live_server, payout["providerTransferId"], outcome)

    failed = await settled(api, finance, payout["id"])
    assert (failed["status"], failed["providerStatus"]) == ("failed", outcome)
    assert failed["failureReason"]
    assert failed["allowedActions"] == ["retry"]
    summary = await balance_of(api, dealer, profile["id"])
    assert (summary["payable"], summary["inTransit"], summary["paidOut"]) == (100_000, 0, 0)
    returned = [e for e in summary["entries"] if e["account"] == accounts.payable(profile["id"])]
    assert sorted(e["amount"] for e in returned) == [-60_000, 60_000, 100_000]
    assert await ledger.already_posted(f"payout:{payout['id']}:returned") is not None
    assert await ledger.already_posted(f"payout:{payout['id']}:paid") is None
    [event] = await _gateway_events(mongo_db, f"payout.{outcome}")
    assert event["outcome"] == "payout_returned"
    await assert_ledger_valid()


async def test_duplicated_and_late_webhooks_move_nothing_twice(api, live_server, mongo_db):
    finance, dealer, profile, payout = await _processing_payout(api, live_server)
    provider_id = payout["providerTransferId"]
    await bank_answers(live_server, provider_id, "processed")
    await settled(api, finance, payout["id"])
    entries_before = await mongo_db["ledger_entries"].count_documents({})

    # The same delivery again (same event id and signature), then fresh events announcing the
    # same outcome and a contradicting one after the terminal state.
    [event] = (await _sandbox(live_server, "GET", "/webhooks", params={"limit": 1})).json()
    again = await _sandbox(live_server, "POST", f"/webhooks/{event['id']}/redeliver")
    fresh = await _sandbox(live_server, "POST", "/webhooks/send",
                           json={"event": "payout.processed", "payoutId": provider_id})
    late = await _sandbox(live_server, "POST", "/webhooks/send",
                          json={"event": "payout.reversed", "payoutId": provider_id})

    for answer in (again, fresh, late):
        assert answer.status_code == 200, answer.text
        assert answer.json()["deliveries"][-1]["statusCode"] == 200
    assert [e["outcome"] for e in await _gateway_events(mongo_db, "payout.processed")] == [
        "payout_paid", "payout_already_settled"]
    assert [e["outcome"] for e in await _gateway_events(mongo_db, "payout.reversed")] == [
        "payout_already_settled"]
    assert await mongo_db["ledger_entries"].count_documents({}) == entries_before
    still = await read_payout(api, finance, payout["id"])
    assert still["status"] == "paid"
    assert [c["toStatus"] for c in still["statusHistory"]] == ["scheduled", "processing", "paid"]
    summary = await balance_of(api, dealer, profile["id"])
    assert (summary["payable"], summary["inTransit"], summary["paidOut"]) == (40_000, 0, 60_000)
    await assert_ledger_valid()


async def test_a_lost_webhook_is_recovered_by_the_reconciler_fetching_the_payout(
    api, live_server, mongo_db
):
    finance, dealer, profile, payout = await _processing_payout(api, live_server)
    await bank_answers(live_server, payout["providerTransferId"], "processed", deliver=False)
    assert (await read_payout(api, finance, payout["id"]))["status"] == "processing"

    assert await payout_tasks.resume_unsettled(timedelta(0)) == 1

    paid = await read_payout(api, finance, payout["id"])
    assert (paid["status"], paid["providerStatus"]) == ("paid", "processed")
    assert await _gateway_events(mongo_db, "payout.processed") == []
    assert len(razorpayx(live_server).store.payouts) == 1  # fetched, not made again
    summary = await balance_of(api, dealer, profile["id"])
    assert (summary["payable"], summary["inTransit"], summary["paidOut"]) == (40_000, 0, 60_000)
    await assert_ledger_valid()


async def test_a_webhook_for_a_superseded_attempt_is_ignored(api, live_server, mongo_db):
    finance, dealer, profile, payout = await _processing_payout(api, live_server)
    first_attempt = payout["providerTransferId"]
    await bank_answers(live_server, first_attempt, "reversed")
    await settled(api, finance, payout["id"])
    retried = await api.client.post(f"/api/payouts/{payout['id']}/retry", headers=finance.headers)
    assert retried.json()["data"]["attempt"] == 2

    # A late "processed" for attempt 1 must not pay attempt 2.
    await _sandbox(live_server, "POST", "/webhooks/send",
                   json={"event": "payout.processed", "payoutId": first_attempt})

    [late] = await eventually(lambda: _gateway_events(mongo_db, "payout.processed"), bool)
    assert late["outcome"] == "stale_payout_attempt"
    current = await read_payout(api, finance, payout["id"])
    assert (current["status"], current["attempt"]) == ("processing", 2)
    assert (await balance_of(api, dealer, profile["id"]))["inTransit"] == 60_000
    await assert_ledger_valid()


async def test_razorpayx_makes_one_payout_per_idempotency_key(api, live_server):
    await api.admin("finance")  # the live server is up and its settings are in use
    provider = get_provider()
    destination = await provider.register_destination(
        PayoutDestination("pac_test", "Spare Hub Traders", "123456781234", "HDFC0001234")
    )
    same = await provider.register_destination(
        PayoutDestination("pac_test", "Spare Hub Traders", "123456781234", "HDFC0001234")
    )
    assert same == destination

    first = await provider.create_payout("pout_key-1", destination.fund_account_id, 5_000,
                                         "pout_key", {"attempt": "1"})
    again = await provider.create_payout("pout_key-1", destination.fund_account_id, 5_000,
                                         "pout_key", {"attempt": "1"})
    other = await provider.create_payout("pout_key-2", destination.fund_account_id, 5_000,
                                         "pout_key", {"attempt": "2"})

    assert first.id == again.id != other.id
    assert (first.status, first.amount, first.attempt) == ("processing", 5_000, 1)
    assert len(razorpayx(live_server).store.payouts) == 2
    with pytest.raises(ProviderError, match="same idempotency key"):
        await provider.create_payout("pout_key-1", destination.fund_account_id, 6_000,
                                     "pout_key", {"attempt": "1"})
    assert len(razorpayx(live_server).store.payouts) == 2
    fetched = await eventually(lambda: provider.fetch_payout(first.id),
                               lambda found: found.status == "processed")
    assert fetched.paid and fetched.id == first.id


async def test_a_payout_razorpayx_refuses_fails_at_once_and_returns_the_money(api, live_server):
    razorpayx(live_server).account_number = "1111111111111111"  # not the account we draw from
    finance = await api.admin("finance")
    _, profile, _ = await payee(api, finance, payable=50_000)

    response = await pay_out(api, finance, profile["id"], 50_000)

    assert response.status_code == 201, response.text
    failed = response.json()["data"]
    assert failed["status"] == "failed"
    assert failed["failureReason"].startswith("Refused by the payout provider")
    assert "business account" in failed["failureReason"]
    assert razorpayx(live_server).store.payouts == {}  # type: ignore[attr-defined]
    summary = await balance_of(api, finance, profile["id"])
    assert (summary["payable"], summary["inTransit"], summary["paidOut"]) == (50_000, 0, 0)
    await assert_ledger_valid()
