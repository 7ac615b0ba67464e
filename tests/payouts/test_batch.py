"""The scheduled batch: every eligible recipient paid once a day, however often it runs."""

from datetime import date, timedelta

from app.payouts.tasks import batch_key, run_payout_batch
from tests.helpers import assert_error
from tests.payouts.factories import all_settled, assert_ledger_valid, balance_of, fund, payee

MINIMUM = 100_000  # PAYOUT_BATCH_MINIMUM's default


async def _payouts_of(api, finance, recipient_id):  # type: ignore[no-untyped-def]
    response = await api.client.get("/api/payouts", params={"recipientId": recipient_id},
                                    headers=finance.headers)
    return response.json()["data"]["items"]


async def test_batch_pays_eligible_recipients_once_even_if_run_twice(api):
    finance = await api.admin("finance")
    root = await api.root_admin()
    _, eligible, _ = await payee(api, finance, payable=150_000)
    _, below_minimum, _ = await payee(api, finance, payable=MINIMUM - 1)
    _, unverified, _ = await payee(api, finance, verified=False, payable=500_000)
    _, bank_rejects, _ = await payee(api, finance, failing=True, payable=200_000)
    suspended_dealer, suspended, _ = await payee(api, finance, payable=300_000)
    ops = await api.admin("ops")
    response = await api.client.patch(
        f"/api/dealers/{suspended['id']}/status", json={"action": "suspend", "reason": "KYC lapse"},
        headers=ops.headers,
    )
    assert response.status_code == 200, response.text
    today = date(2030, 1, 15)

    first = await run_payout_batch(day=today)
    await fund(eligible["id"], 120_000)  # more money arrives the same day
    second = await run_payout_batch(day=today)
    await all_settled(api, finance)

    assert len(first.created) == 2 and not first.replayed
    assert second.created == []
    # Both still hold a balance above the minimum, but today's keys are spent.
    assert sorted(second.replayed) == sorted(first.created)
    [paid] = await _payouts_of(api, finance, eligible["id"])
    assert (paid["status"], paid["amount"], paid["source"]) == ("paid", 150_000, "batch")
    assert paid["requestedBy"] == "system"
    [failed] = await _payouts_of(api, finance, bank_rejects["id"])
    assert failed["status"] == "failed"
    for skipped in (below_minimum, unverified, suspended):
        assert await _payouts_of(api, finance, skipped["id"]) == []
    summary = await balance_of(api, finance, eligible["id"])
    assert (summary["payable"], summary["paidOut"]) == (120_000, 150_000)
    assert (await balance_of(api, finance, bank_rejects["id"]))["payable"] == 200_000

    # The next day, the new balance is paid out.
    tomorrow = await run_payout_batch(day=today + timedelta(days=1))
    await all_settled(api, finance)
    assert len(tomorrow.created) == 2  # the eligible dealer and the rejected one, again
    summary = await balance_of(api, finance, eligible["id"])
    assert (summary["payable"], summary["paidOut"]) == (0, 270_000)
    entries = await api.audited(root, "payout.created", paid["id"])
    assert entries[0]["actorId"] == "system" and entries[0]["metadata"]["source"] == "batch"
    await assert_ledger_valid()


async def test_a_batch_key_cannot_be_reused_by_hand_with_another_body(api):
    """The batch keys are the system's: a finance admin's key space is separate."""
    finance = await api.admin("finance")
    _, profile, _ = await payee(api, finance, payable=150_000)
    report = await run_payout_batch(day=date(2030, 2, 1))
    assert len(report.created) == 1
    key = batch_key(profile["id"], date(2030, 2, 1))
    await fund(profile["id"], 10_000)
    response = await api.client.post(
        "/api/payouts", json={"recipientId": profile["id"], "amount": 10_000},
        headers={**finance.headers, "Idempotency-Key": key},
    )
    assert response.status_code == 201, response.text
    await all_settled(api, finance)
    assert_error(
        await api.client.post("/api/payouts", json={"recipientId": profile["id"], "amount": 1},
                              headers={**finance.headers, "Idempotency-Key": key}),
        422,
    )
    await assert_ledger_valid()


async def test_the_batch_job_is_scheduled_only_when_enabled(monkeypatch):
    from app.core.config import Settings
    from app.main import _jobs

    assert "payout-batch" not in {job.name for job in _jobs(Settings()).jobs}
    monkeypatch.setenv("PAYOUT_BATCH_ENABLED", "true")
    monkeypatch.setenv("PAYOUT_BATCH_MINIMUM", "250000")
    monkeypatch.setenv("PAYOUT_BATCH_INTERVAL_SECONDS", "900")
    config = Settings()
    assert (config.payouts.batch_enabled, config.payouts.batch_minimum) == (True, 250_000)
    [job] = [job for job in _jobs(config).jobs if job.name == "payout-batch"]
    assert job.interval == 900
    assert "payout-reconciler" in {job.name for job in _jobs(config).jobs}
