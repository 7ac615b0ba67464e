"""Concurrent purchase stories against an API in another OS process, recording what the API
acknowledged, and the checks that must hold afterwards whatever was killed meanwhile."""

import asyncio
import contextlib
import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from tests.durability.serving import Served
from tests.helpers import Account, Api, eventually
from tests.live import LiveServer
from tests.orders import factories as order_factories
from tests.payments.factories import Payments, Purchase

_keys = itertools.count(1)
PRICE = 60_000


class Abandoned(Exception):
    """A step was refused or did not answer (expected while something is down)."""


@dataclass
class Acks:
    """Payments by the last step the API acknowledged with a 2xx."""

    started: set[str] = field(default_factory=set)
    captured: set[str] = field(default_factory=set)
    released: set[str] = field(default_factory=set)
    completed: int = 0
    abandoned: Counter[str] = field(default_factory=Counter)
    last_error: str = ""
    # Called on each acknowledged capture, at once: a crash test kills something right
    # after an acknowledgement, when a write the server did not make durable would be lost.
    on_capture: Callable[[int], None] | None = None


def _key(prefix: str) -> dict[str, str]:
    return {"Idempotency-Key": f"crash-{prefix}-{next(_keys):06d}"}


def _ok(response: httpx.Response, step: str) -> dict[str, Any]:
    if not 200 <= response.status_code < 300:
        raise Abandoned(f"{step}: {response.status_code}")
    return response.json()["data"]


async def purchase(server: Served, root: Account, acks: Acks) -> None:
    """signup dealer → approval → product → customer order → payment → sandbox checkout
    (with its webhook) → verify → pack/ship/deliver → release by an admin."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        api = Api(http)
        pay = Payments(LiveServer(server.base_url, None, None), api)  # type: ignore[arg-type]
        shop, buyer, order = await pay.order(PRICE)  # factories assert every 2xx themselves
        payment = _ok(await pay.start(buyer, order["id"], **_key("start")), "start")
        acks.started.add(payment["id"])
        bought = Purchase(shop, buyer, order, payment)
        checkout = await pay.checkout(bought, deliver_webhook=True)  # the sandbox's own JSON
        if checkout.status_code != 200:
            raise Abandoned(f"checkout: {checkout.status_code}")
        _ok(await pay.verify(bought), "verify")
        acks.captured.add(payment["id"])
        if acks.on_capture is not None:
            acks.on_capture(len(acks.captured))
        for account, action, extra in (
            (shop.account, "pack", {}),
            (shop.account, "ship", {"carrier": "BlueDart", "trackingNumber": "BD123456"}),
            (buyer, "deliver", {}),
        ):
            _ok(await order_factories.move(api, account, order["id"], action, **extra), action)
        _ok(await pay.release(payment["id"], root, **_key("release")), "release")
        acks.released.add(payment["id"])
        acks.completed += 1


RETRY_PAUSE_SECONDS = 0.2
ORPHAN_WAIT = 120.0  # the database's transaction lifetime (60 s) and the sequencer's catch-up


async def buyer_loop(server: Served, root: Account, acks: Acks, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await purchase(server, root, acks)
        except (Abandoned, AssertionError, httpx.HTTPError, KeyError, TypeError) as exc:
            acks.abandoned[type(exc).__name__] += 1
            acks.last_error = f"{type(exc).__name__}: {str(exc)[:300]}"
            # A buyer who met an error tries again a moment later, unless the load is over.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=RETRY_PAUSE_SECONDS)


@contextlib.asynccontextmanager
async def buying(server: Served, root: Account, acks: Acks, clients: int):
    stop = asyncio.Event()
    tasks = [asyncio.create_task(buyer_loop(server, root, acks, stop)) for _ in range(clients)]
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 90)


async def invariants(db: AsyncDatabase, http: httpx.AsyncClient, root: Account, acks: Acks) -> None:
    """What must hold after any crash, read from the API and from the database itself."""
    # Every payment the API acknowledged is there, at least as far as it was acknowledged.
    payments = {doc["_id"]: doc async for doc in db.payments.find({})}
    assert acks.started <= payments.keys(), acks.started - payments.keys()
    for payment_id in acks.captured:
        assert payments[payment_id]["status"] == "captured", payments[payment_id]
    for payment_id in acks.released:
        assert payments[payment_id]["escrow_status"] == "released", payments[payment_id]

    # No money moved twice: one capture (and at most one release) per payment, and each
    # only for a payment in that state.
    kinds: dict[str, Counter[str]] = {}
    async for txn in db.ledger_transactions.find({"payment_id": {"$ne": None}}):
        kinds.setdefault(txn["payment_id"], Counter())[txn["kind"]] += 1
    for payment_id, doc in payments.items():
        counted = kinds.get(payment_id, Counter())
        assert counted["capture"] == (1 if doc["status"] != "created" and doc["status"] != "failed"
                                      else 0), (payment_id, doc["status"], counted)
        assert counted["release"] == (1 if doc["escrow_status"] == "released" else 0), (
            payment_id, doc["escrow_status"], counted)
    cursor = await db.ledger_entries.aggregate([
        {"$group": {"_id": "$transaction_id", "sum": {"$sum": "$amount"}}},
        {"$match": {"sum": {"$ne": 0}}},
    ])
    entries = await cursor.to_list()
    assert entries == []  # every journal transaction balances

    verify = await http.get("/api/admin/ledger/verify", headers=root.headers)
    assert verify.status_code == 200, verify.text
    assert verify.json()["data"]["valid"] is True, verify.json()["data"]
    # A killed API may die inside a sequencer transaction; the database aborts such an
    # orphaned transaction only after its lifetime (60 s, as mongod's
    # transactionLifetimeLimitSeconds), and until then the chain head stays locked.
    async def chain_report() -> dict[str, Any]:
        return await Api(http).chain_report(root)

    chain = await eventually(chain_report, lambda report: report["pending"] == 0, ORPHAN_WAIT)
    assert chain["valid"] is True, chain

    # Stock: what each product holds reserved is exactly what its live orders reserved.
    held: Counter[str] = Counter()
    async for order in db.orders.find({"stock_state": "reserved"}):
        for item in order["items"]:
            held[item["product_id"]] += item["quantity"]
    async for stock in db.inventory.find({}):
        assert stock["reserved_count"] == held[stock["_id"]], (stock, held[stock["_id"]])
        assert stock["available"] == stock["quantity"] - stock["reserved_count"], stock
