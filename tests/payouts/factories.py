"""Payout factories: dealers with bank accounts, payable balances and finance admins, and the
RazorpayX sandbox of the live server (its payouts, and the bank's answer to them)."""

import itertools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from app.core.database import transaction
from app.core.ids import new_id
from app.core.logging import JsonFormatter
from app.core.permissions import SYSTEM_ACTOR
from app.payments.ledger import accounts
from app.payments.ledger import service as ledger
from app.payments.ledger.service import Transfer
from app.sandbox.payouts import RazorpayXSandbox
from tests.dealers.factories import approved_dealer
from tests.helpers import Account, Api, eventually
from tests.live import LiveServer

_numbers = itertools.count(1)
FAILING_SUFFIX = "0000"  # the sandbox's test accounts whose bank reverses every payout
REVERSED_REASON = "The beneficiary bank rejected the payout"
SETTLED = ("paid", "failed")


def account_number(failing: bool = False) -> str:
    """A unique 12-digit account number; `failing` ones end in 0000."""
    serial = next(_numbers)
    return f"9{serial:07d}{FAILING_SUFFIX}" if failing else f"9{serial:07d}{4321 + serial % 5000:04d}"


async def fund(dealer_id: str, amount: int) -> str:
    """Give a dealer a payable balance the way the escrow does: capture, then release."""
    payment_id = new_id("pay")
    escrow = accounts.escrow(payment_id)
    for key, transfer in (
        (f"capture:{payment_id}", Transfer(accounts.GATEWAY_CLEARING, escrow, amount)),
        (f"release:{payment_id}", Transfer(escrow, accounts.payable(dealer_id), amount)),
    ):
        await _post(key, transfer, payment_id, dealer_id)
    return payment_id


async def capture_only(dealer_id: str, amount: int) -> str:
    """Money captured for a dealer and still held in escrow."""
    payment_id = new_id("pay")
    await _post(f"capture:{payment_id}",
                Transfer(accounts.GATEWAY_CLEARING, accounts.escrow(payment_id), amount),
                payment_id, dealer_id)
    return payment_id


async def _post(key: str, transfer: Transfer, payment_id: str, dealer_id: str) -> None:
    async def work(session):  # type: ignore[no-untyped-def]
        return await ledger.post(session, key=key, kind="test", transfers=[transfer],
                                 actor=SYSTEM_ACTOR, payment_id=payment_id, recipient_id=dealer_id)

    await transaction(work)


async def register_account(
    api: Api, dealer: Account, number: str | None = None, **overrides: Any
) -> httpx.Response:
    body = {"holderName": "Spare Hub Traders", "accountNumber": number or account_number(),
            "ifsc": "HDFC0001234", **overrides}
    return await api.client.post("/api/payouts/accounts", json=body, headers=dealer.headers)


async def verify_account(api: Api, finance: Account, account_id: str) -> dict[str, Any]:
    response = await api.client.patch(
        f"/api/payouts/accounts/{account_id}/verification", json={"action": "verify"},
        headers=finance.headers,
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def payee(
    api: Api, finance: Account, *, verified: bool = True, failing: bool = False,
    payable: int = 0,
) -> tuple[Account, dict[str, Any], dict[str, Any]]:
    """An approved dealer with a registered (and by default verified) account and a balance."""
    dealer, profile = await approved_dealer(api)
    response = await register_account(api, dealer, account_number(failing))
    assert response.status_code == 201, response.text
    account = response.json()["data"]
    if verified:
        account = await verify_account(api, finance, account["id"])
    if payable:
        await fund(profile["id"], payable)
    return dealer, profile, account


async def pay_out(
    api: Api, finance: Account, recipient_id: str, amount: Any = None,
    key: str | None = None, **extra: Any,
) -> httpx.Response:
    body: dict[str, Any] = {"recipientId": recipient_id, **extra}
    if amount is not None:
        body["amount"] = amount
    return await api.client.post(
        "/api/payouts", json=body,
        headers={**finance.headers, "Idempotency-Key": key or new_id("idem")},
    )


async def balance(api: Api, who: Account, recipient_id: str | None = None) -> httpx.Response:
    params = {"recipientId": recipient_id} if recipient_id else {}
    return await api.client.get("/api/payouts/balance", params=params, headers=who.headers)


async def balance_of(api: Api, who: Account, recipient_id: str) -> dict[str, Any]:
    response = await balance(api, who, recipient_id)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def assert_ledger_valid() -> None:
    report = await ledger.verify()
    assert report.valid, report.violations


@contextmanager
def captured_logs() -> Iterator[list[str]]:
    """Every log line written meanwhile, formatted as the app writes them (extras included)."""
    lines: list[str] = []
    formatter = JsonFormatter()

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(formatter.format(record))

    root, handler = logging.getLogger(), Collect(logging.DEBUG)
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def read_payout(api: Api, who: Account, payout_id: str) -> dict[str, Any]:
    response = await api.client.get(f"/api/payouts/{payout_id}", headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def settled(api: Api, who: Account, payout_id: str) -> dict[str, Any]:
    """The payout once the provider's webhook (or the reconciler) has settled it."""
    async def probe() -> dict[str, Any]:
        return await read_payout(api, who, payout_id)

    return await eventually(probe, lambda payout: payout["status"] in SETTLED)


async def all_settled(api: Api, who: Account) -> list[dict[str, Any]]:
    """Every payout, once none is scheduled or processing any more."""
    async def probe() -> list[dict[str, Any]]:
        response = await api.client.get("/api/payouts", params={"limit": 100}, headers=who.headers)
        return response.json()["data"]["items"]

    return await eventually(probe, lambda items: all(p["status"] in SETTLED for p in items))


def razorpayx(live_server: LiveServer) -> RazorpayXSandbox:
    """The live server's RazorpayX sandbox (its `store.payouts`, `auto_process_payouts`)."""
    return live_server.sandbox_app.state.payouts


def sandbox_payout(live_server: LiveServer, provider_payout_id: str) -> dict[str, Any]:
    return razorpayx(live_server).store.payouts[provider_payout_id]  # type: ignore[attr-defined]


async def bank_answers(
    live_server: LiveServer, provider_payout_id: str, outcome: str, deliver: bool = True
) -> dict[str, Any]:
    """The bank settles a payout at the sandbox (and RazorpayX sends the webhook, or loses it)."""
    async with httpx.AsyncClient(base_url=live_server.sandbox_url, timeout=30) as http:
        response = await http.post(f"/payouts/{provider_payout_id}/settle",
                                   json={"outcome": outcome, "deliverWebhook": deliver})
    assert response.status_code == 200, response.text
    return response.json()
