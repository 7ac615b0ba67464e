"""Failed payouts return the money; retries and resumed payouts never pay twice."""

import asyncio

from app.payments.ledger import accounts
from app.payments.ledger import service as ledger
from app.payouts import service as payouts
from app.payouts import tasks as payout_tasks
from app.payouts.exceptions import ProviderError
from app.payouts.models import SandboxPayoutTransfer
from app.payouts.provider import PayoutDestination, SandboxPayoutProvider, use_provider
from tests.helpers import assert_error
from tests.payouts.factories import (
    account_number,
    assert_ledger_valid,
    balance_of,
    captured_logs,
    pay_out,
    payee,
    register_account,
    verify_account,
)


async def _transfers(payout_id: str) -> list[dict]:
    return await SandboxPayoutTransfer.get_pymongo_collection().find(
        {"reference": payout_id}
    ).sort("_id").to_list()


async def test_failed_payout_returns_the_money_and_a_retry_to_a_fixed_account_pays_once(api):
    finance = await api.admin("finance")
    dealer, profile, _ = await payee(api, finance, failing=True, payable=90_000)

    response = await pay_out(api, finance, profile["id"], 90_000)

    assert response.status_code == 201, response.text
    payout = response.json()["data"]
    assert payout["status"] == "failed"
    assert payout["failureReason"] == "beneficiary bank rejected"
    assert "beneficiary bank rejected" in response.json()["message"]
    summary = await balance_of(api, finance, profile["id"])
    assert (summary["payable"], summary["inTransit"], summary["paidOut"]) == (90_000, 0, 0)
    await assert_ledger_valid()

    # Retrying to the same rejected account fails again (attempt 2), and returns the money again.
    again = await api.client.post(f"/api/payouts/{payout['id']}/retry", headers=finance.headers)
    assert again.status_code == 200, again.text
    assert (again.json()["data"]["status"], again.json()["data"]["attempt"]) == ("failed", 2)

    # The dealer registers a working account; until it is verified, no retry goes out.
    fixed = (await register_account(api, dealer, account_number())).json()["data"]
    assert_error(await api.client.post(f"/api/payouts/{payout['id']}/retry",
                                       headers=finance.headers), 422)
    await verify_account(api, finance, fixed["id"])

    retried = await api.client.post(f"/api/payouts/{payout['id']}/retry", headers=finance.headers)

    assert retried.status_code == 200, retried.text
    paid = retried.json()["data"]
    assert (paid["status"], paid["attempt"], paid["failureReason"]) == ("paid", 3, None)
    assert (paid["accountId"], paid["accountNumberMasked"]) == (fixed["id"],
                                                                 fixed["accountNumberMasked"])
    summary = await balance_of(api, dealer, profile["id"])
    assert (summary["payable"], summary["inTransit"], summary["paidOut"]) == (0, 0, 90_000)
    transfers = await _transfers(payout["id"])
    assert [t["_id"] for t in transfers] == [f"{payout['id']}:{n}" for n in (1, 2, 3)]
    assert [t["status"] for t in transfers] == ["failed", "failed", "processed"]
    assert await ledger.balance(accounts.PAYOUTS) == 90_000
    # A paid payout cannot be retried.
    assert_error(await api.client.post(f"/api/payouts/{payout['id']}/retry",
                                       headers=finance.headers), 409)
    await assert_ledger_valid()
    root = await api.root_admin()
    failures = await api.audited(root, "payout.failed", payout["id"], count=2)
    assert {entry["reason"] for entry in failures} == {"beneficiary bank rejected"}
    assert {entry["metadata"]["amount"] for entry in failures} == {90_000}
    assert len(await api.audited(root, "payout.retried", payout["id"], count=2)) == 2
    await api.audited(root, "payout.paid", payout["id"])


async def test_retry_is_refused_when_the_payable_balance_no_longer_covers_it(api):
    finance = await api.admin("finance")
    dealer, profile, _ = await payee(api, finance, failing=True, payable=50_000)
    failed = (await pay_out(api, finance, profile["id"], 50_000)).json()["data"]
    fixed = (await register_account(api, dealer, account_number())).json()["data"]
    await verify_account(api, finance, fixed["id"])
    assert (await pay_out(api, finance, profile["id"], 20_000)).status_code == 201

    response = await api.client.post(f"/api/payouts/{failed['id']}/retry", headers=finance.headers)

    assert_error(response, 422)
    summary = await balance_of(api, finance, profile["id"])
    assert (summary["payable"], summary["paidOut"]) == (30_000, 20_000)
    await assert_ledger_valid()


class LostAnswers:
    """A provider whose answers never arrive: the bank may or may not have paid (`deliver`)."""

    def __init__(self, deliver: bool) -> None:
        self.deliver, self.calls, self.inner = deliver, 0, SandboxPayoutProvider()

    async def transfer(self, idempotency_key, account, amount, reference):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.deliver:
            await self.inner.transfer(idempotency_key, account, amount, reference)
        raise ProviderError("timed out waiting for the provider")


async def test_processing_twice_for_one_attempt_makes_one_provider_transfer(api):
    finance = await api.admin("finance")
    _, profile, _ = await payee(api, finance, payable=40_000)
    use_provider(LostAnswers(deliver=True))

    response = await pay_out(api, finance, profile["id"], 40_000)

    payout = response.json()["data"]
    assert (response.status_code, payout["status"]) == (201, "processing")
    assert (await balance_of(api, finance, profile["id"]))["inTransit"] == 40_000
    use_provider(None)
    first = await payouts.process_payout(payout["id"])
    second = await payouts.process_payout(payout["id"])

    assert first.status.value == second.status.value == "paid"
    transfers = await _transfers(payout["id"])
    assert [t["_id"] for t in transfers] == [f"{payout['id']}:1"]
    assert first.provider_transfer_id == transfers[0]["transfer_id"]
    summary = await balance_of(api, finance, profile["id"])
    assert (summary["payable"], summary["inTransit"], summary["paidOut"]) == (0, 0, 40_000)
    await assert_ledger_valid()


async def test_concurrent_resumes_of_a_processing_payout_pay_once(api):
    finance = await api.admin("finance")
    _, profile, _ = await payee(api, finance, payable=40_000)
    use_provider(LostAnswers(deliver=False))
    payout = (await pay_out(api, finance, profile["id"], 40_000)).json()["data"]
    assert payout["status"] == "processing"
    use_provider(None)

    results = await asyncio.gather(*[payouts.process_payout(payout["id"]) for _ in range(5)])

    assert {r.status.value for r in results} == {"paid"}
    assert len(await _transfers(payout["id"])) == 1
    assert await ledger.balance(accounts.in_transit(profile["id"])) == 0
    assert (await balance_of(api, finance, profile["id"]))["paidOut"] == 40_000
    await assert_ledger_valid()


async def test_the_reconciler_resumes_unsettled_payouts(api):
    from datetime import timedelta

    finance = await api.admin("finance")
    _, profile, _ = await payee(api, finance, payable=40_000)
    use_provider(LostAnswers(deliver=False))
    payout = (await pay_out(api, finance, profile["id"], 40_000)).json()["data"]
    use_provider(None)

    assert await payout_tasks.resume_unsettled(timedelta(hours=1)) == 0
    assert await payout_tasks.resume_unsettled(timedelta(0)) == 1

    read = await api.client.get(f"/api/payouts/{payout['id']}", headers=finance.headers)
    assert read.json()["data"]["status"] == "paid"
    await assert_ledger_valid()


async def test_sandbox_provider_dedupes_on_the_idempotency_key(app):
    provider = SandboxPayoutProvider()
    destination = PayoutDestination("A Dealer", "123456781234", "HDFC0001234")

    first = await provider.transfer("pout_x:1", destination, 5_000, "pout_x")
    again = await provider.transfer("pout_x:1", destination, 5_000, "pout_x")
    failing = await provider.transfer(
        "pout_y:1", PayoutDestination("A Dealer", "123456780000", "HDFC0001234"), 5_000, "pout_y"
    )

    assert first == again and first.status.value == "processed"
    assert (failing.status.value, failing.failure_reason) == ("failed", "beneficiary bank rejected")
    assert len(await _transfers("pout_x")) == 1
    try:
        await provider.transfer("pout_x:1", destination, 6_000, "pout_x")
    except ProviderError:
        pass
    else:
        raise AssertionError("a reused key with another amount must be refused")


async def test_account_numbers_never_reach_the_logs(api):
    finance = await api.admin("finance")
    dealer, profile = (await payee(api, finance))[:2]
    number = account_number(failing=True)
    with captured_logs() as lines:
        account = (await register_account(api, dealer, number)).json()["data"]
        await verify_account(api, finance, account["id"])
        from tests.payouts.factories import fund

        await fund(profile["id"], 5_000)
        payout = (await pay_out(api, finance, profile["id"], 5_000)).json()["data"]
        use_provider(LostAnswers(deliver=False))
        await api.client.post(f"/api/payouts/{payout['id']}/retry", headers=finance.headers)
    assert lines, "the requests were logged"
    assert not [line for line in lines if number in line]
