"""Reversed payouts return the money; retries and resumed payouts never pay twice."""

import asyncio
from datetime import timedelta

from app.payments.ledger import accounts
from app.payments.ledger import service as ledger
from app.payouts import service as payouts
from app.payouts import tasks as payout_tasks
from app.payouts.exceptions import ProviderError
from app.payouts.provider import get_provider, use_provider
from tests.helpers import assert_error
from tests.payouts.factories import (
    REVERSED_REASON,
    account_number,
    assert_ledger_valid,
    balance_of,
    bank_answers,
    captured_logs,
    fund,
    pay_out,
    payee,
    razorpayx,
    read_payout,
    register_account,
    settled,
    verify_account,
)


def sandbox_payouts_of(live_server, payout_id: str) -> list[dict]:  # type: ignore[no-untyped-def]
    """What RazorpayX holds for one of our payouts, in the order it was made."""
    made = [p for p in razorpayx(live_server).store.payouts.values()  # type: ignore[attr-defined]
            if p["reference_id"] == payout_id]
    return sorted(made, key=lambda p: int(p["notes"]["attempt"]))


async def test_reversed_payout_returns_the_money_and_a_retry_to_a_fixed_account_pays_once(
    api, live_server
):
    finance = await api.admin("finance")
    dealer, profile, _ = await payee(api, finance, failing=True, payable=90_000)

    response = await pay_out(api, finance, profile["id"], 90_000)

    assert response.status_code == 201, response.text
    payout = await settled(api, finance, response.json()["data"]["id"])
    assert (payout["status"], payout["providerStatus"]) == ("failed", "reversed")
    assert payout["failureReason"] == REVERSED_REASON
    summary = await balance_of(api, finance, profile["id"])
    assert (summary["payable"], summary["inTransit"], summary["paidOut"]) == (90_000, 0, 0)
    await assert_ledger_valid()

    # Retrying to the same rejected account fails again (attempt 2), and returns the money again.
    again = await api.client.post(f"/api/payouts/{payout['id']}/retry", headers=finance.headers)
    assert again.status_code == 200, again.text
    assert again.json()["data"]["attempt"] == 2
    assert again.json()["data"]["status"] in {"processing", "failed"}  # the report may beat it
    assert (await settled(api, finance, payout["id"]))["status"] == "failed"

    # The dealer registers a working account; until it is verified, no retry goes out.
    fixed = (await register_account(api, dealer, account_number())).json()["data"]
    assert_error(await api.client.post(f"/api/payouts/{payout['id']}/retry",
                                       headers=finance.headers), 422)
    await verify_account(api, finance, fixed["id"])

    retried = await api.client.post(f"/api/payouts/{payout['id']}/retry", headers=finance.headers)

    assert retried.status_code == 200, retried.text
    paid = await settled(api, finance, payout["id"])
    assert (paid["status"], paid["attempt"], paid["failureReason"]) == ("paid", 3, None)
    assert (paid["accountId"], paid["accountNumberMasked"]) == (fixed["id"],
                                                                 fixed["accountNumberMasked"])
    summary = await balance_of(api, dealer, profile["id"])
    assert (summary["payable"], summary["inTransit"], summary["paidOut"]) == (0, 0, 90_000)
    made = sandbox_payouts_of(live_server, payout["id"])
    assert [p["status"] for p in made] == ["reversed", "reversed", "processed"]
    assert paid["providerTransferId"] == made[-1]["id"]
    assert await ledger.balance(accounts.PAYOUTS) == 90_000
    # A paid payout cannot be retried.
    assert_error(await api.client.post(f"/api/payouts/{payout['id']}/retry",
                                       headers=finance.headers), 409)
    await assert_ledger_valid()
    root = await api.root_admin()
    failures = await api.audited(root, "payout.failed", payout["id"], count=2)
    assert {entry["reason"] for entry in failures} == {REVERSED_REASON}
    assert {entry["metadata"]["amount"] for entry in failures} == {90_000}
    assert len(await api.audited(root, "payout.retried", payout["id"], count=2)) == 2
    await api.audited(root, "payout.paid", payout["id"])


async def test_retry_is_refused_when_the_payable_balance_no_longer_covers_it(api):
    finance = await api.admin("finance")
    dealer, profile, _ = await payee(api, finance, failing=True, payable=50_000)
    failed = (await pay_out(api, finance, profile["id"], 50_000)).json()["data"]
    assert (await settled(api, finance, failed["id"]))["status"] == "failed"
    fixed = (await register_account(api, dealer, account_number())).json()["data"]
    await verify_account(api, finance, fixed["id"])
    other = await pay_out(api, finance, profile["id"], 20_000)
    assert other.status_code == 201
    await settled(api, finance, other.json()["data"]["id"])

    response = await api.client.post(f"/api/payouts/{failed['id']}/retry", headers=finance.headers)

    assert_error(response, 422)
    summary = await balance_of(api, finance, profile["id"])
    assert (summary["payable"], summary["paidOut"]) == (30_000, 20_000)
    await assert_ledger_valid()


class LostAnswers:
    """RazorpayX whose answers never arrive: it may or may not have made the payout (`deliver`)."""

    def __init__(self, deliver: bool) -> None:
        self.deliver, self.calls, self.inner = deliver, 0, get_provider()

    async def register_destination(self, destination):  # type: ignore[no-untyped-def]
        return await self.inner.register_destination(destination)

    async def create_payout(self, *args):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.deliver:
            await self.inner.create_payout(*args)
        raise ProviderError("timed out waiting for RazorpayX")

    async def fetch_payout(self, provider_payout_id):  # type: ignore[no-untyped-def]
        self.calls += 1
        raise ProviderError("timed out waiting for RazorpayX")


async def test_processing_twice_for_one_attempt_makes_one_provider_payout(api, live_server):
    finance = await api.admin("finance")
    _, profile, _ = await payee(api, finance, payable=40_000)
    razorpayx(live_server).auto_process_payouts = False
    lost = LostAnswers(deliver=True)
    use_provider(lost)

    response = await pay_out(api, finance, profile["id"], 40_000)

    payout = response.json()["data"]
    assert (response.status_code, payout["status"], lost.calls) == (201, "processing", 1)
    assert (await balance_of(api, finance, profile["id"]))["inTransit"] == 40_000
    use_provider(None)
    first = await payouts.process_payout(payout["id"])
    second = await payouts.process_payout(payout["id"])

    [made] = sandbox_payouts_of(live_server, payout["id"])
    assert first.status.value == second.status.value == "processing"
    assert first.provider_transfer_id == second.provider_transfer_id == made["id"]
    await bank_answers(live_server, made["id"], "processed")
    assert (await settled(api, finance, payout["id"]))["status"] == "paid"
    summary = await balance_of(api, finance, profile["id"])
    assert (summary["payable"], summary["inTransit"], summary["paidOut"]) == (0, 0, 40_000)
    await assert_ledger_valid()


async def test_concurrent_resumes_of_a_processing_payout_pay_once(api, live_server):
    finance = await api.admin("finance")
    _, profile, _ = await payee(api, finance, payable=40_000)
    use_provider(LostAnswers(deliver=False))
    payout = (await pay_out(api, finance, profile["id"], 40_000)).json()["data"]
    assert payout["status"] == "processing"
    use_provider(None)

    await asyncio.gather(*[payouts.process_payout(payout["id"]) for _ in range(5)])

    assert (await settled(api, finance, payout["id"]))["status"] == "paid"
    assert len(sandbox_payouts_of(live_server, payout["id"])) == 1
    assert await ledger.balance(accounts.in_transit(profile["id"])) == 0
    assert (await balance_of(api, finance, profile["id"]))["paidOut"] == 40_000
    await assert_ledger_valid()


async def test_the_reconciler_resumes_payouts_whose_creation_was_lost(api, live_server):
    finance = await api.admin("finance")
    _, profile, _ = await payee(api, finance, payable=40_000)
    use_provider(LostAnswers(deliver=False))
    payout = (await pay_out(api, finance, profile["id"], 40_000)).json()["data"]
    use_provider(None)

    assert await payout_tasks.resume_unsettled(timedelta(hours=1)) == 0
    assert sandbox_payouts_of(live_server, payout["id"]) == []
    assert await payout_tasks.resume_unsettled(timedelta(0)) == 1

    assert (await settled(api, finance, payout["id"]))["status"] == "paid"
    assert len(sandbox_payouts_of(live_server, payout["id"])) == 1
    await assert_ledger_valid()


async def test_account_numbers_never_reach_the_logs(api, live_server):
    finance = await api.admin("finance")
    dealer, profile = (await payee(api, finance))[:2]
    number = account_number(failing=True)
    with captured_logs() as lines:
        account = (await register_account(api, dealer, number)).json()["data"]
        await verify_account(api, finance, account["id"])
        await fund(profile["id"], 5_000)
        payout = (await pay_out(api, finance, profile["id"], 5_000)).json()["data"]
        assert (await settled(api, finance, payout["id"]))["status"] == "failed"
        use_provider(LostAnswers(deliver=False))
        await api.client.post(f"/api/payouts/{payout['id']}/retry", headers=finance.headers)
        assert (await read_payout(api, finance, payout["id"]))["status"] == "processing"
    assert lines, "the requests were logged"
    assert not [line for line in lines if number in line]
