"""MongoDB commands per request of each hot route, and transaction retries under concurrency.

    .venv/bin/python bench/commands.py [--products 10000]

Runs the app in this process (uvicorn on loopback, so the Razorpay SDK reaches the mounted
sandbox) with a PyMongo CommandListener registered before any client exists; background
jobs are off so that only the request's own commands are counted. Each route is sent once
(after a warm-up) and its commands are listed with the time the database took for each; the
audit sequencer's deferred work is counted apart. Then 32 purchases run at once and the
transactions started, committed and failed (WriteConflict) are counted: every failed attempt
is one `with_transaction` retry.
"""

import argparse
import asyncio
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the repository, not bench/

from pymongo import monitoring  # noqa: E402


@dataclass
class Command:
    name: str
    target: str
    micros: int = 0
    failed: str = ""


@dataclass
class Listener(monitoring.CommandListener):
    commands: dict[int, Command] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)
    started_transactions: int = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = event.command_name
        target = event.command.get(name)
        target = target if isinstance(target, str) else ""
        if event.command.get("startTransaction"):
            self.started_transactions += 1
        self.commands[event.request_id] = Command(name, target)
        self.order.append(event.request_id)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        command = self.commands.get(event.request_id)
        if command:
            command.micros = event.duration_micros

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        command = self.commands.get(event.request_id)
        if command:
            command.micros = event.duration_micros
            failure = event.failure or {}
            command.failed = str(failure.get("codeName") or failure.get("code") or "failed")

    def reset(self) -> None:
        self.commands.clear()
        self.order.clear()
        self.started_transactions = 0

    def taken(self) -> list[Command]:
        return [self.commands[request_id] for request_id in self.order]


LISTENER = Listener()
monitoring.register(LISTENER)  # before the app creates its client

import aiohttp  # noqa: E402

from app.audit import tasks as audit_tasks  # noqa: E402
from app.core.config import AuthSettings, DatabaseSettings, RateLimitSettings, Settings  # noqa: E402
from app.core.database import TransactionCounter, get_database  # noqa: E402
from app.core.embedded import EmbeddedMongo  # noqa: E402
from app.payments.gateway import SANDBOX_PATH  # noqa: E402
from bench import seed  # noqa: E402
from bench.load import Outcome, send  # noqa: E402
from bench.procs import ADMIN_EMAIL, ADMIN_PASSWORD, DB_NAME  # noqa: E402
from tests.live import running_live  # noqa: E402
from tests.orders.factories import order_body  # noqa: E402


def describe(commands: list[Command]) -> str:
    grouped: dict[str, list[int]] = defaultdict(list)
    for command in commands:
        label = f"{command.name} {command.target}".strip()
        if command.failed:
            label += f" ({command.failed})"
        grouped[label].append(command.micros)
    parts = [f"{label} ×{len(micros)} ({sum(micros) / 1000:.1f} ms)" if len(micros) > 1
             else f"{label} ({micros[0] / 1000:.1f} ms)" for label, micros in grouped.items()]
    total = sum(command.micros for command in commands) / 1000
    return f"{len(commands)} commands, {total:.1f} ms in the database: " + "; ".join(parts)


class Probe:
    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http, self.base = http, base
        self.lines: list[str] = []

    async def count(self, label: str, method: str, path: str, ok: tuple[int, ...] = (200,),
                    sequencer: bool = True, **kwargs: Any) -> Outcome:
        url = path if path.startswith("http") else f"{self.base}{path}"
        await asyncio.sleep(0.05)  # let the previous request's after-work settle
        LISTENER.reset()
        outcome = await send(self.http, method, url, ok=ok, **kwargs)
        if not outcome.ok:
            raise RuntimeError(f"{label}: {outcome.label} {outcome.body}")
        line = f"- `{label}`: {describe(LISTENER.taken())}"
        if sequencer:
            LISTENER.reset()
            chained = await audit_tasks.sequence_pending()
            if chained:
                entries = "entry" if chained == 1 else "entries"
                line += (f"\n  - then the audit sequencer, for {chained} {entries}: "
                         f"{describe(LISTENER.taken())}")
        self.lines.append(line)
        print(line, flush=True)
        return outcome


async def purchase(probe: Probe, buyer: seed.Account, product_id: str, key: str,
                   count: bool) -> None:
    run = probe.count if count else None
    sandbox = f"{probe.base}{SANDBOX_PATH}"

    async def step(label: str, method: str, path: str, ok: tuple[int, ...] = (200,),
                   **kwargs: Any) -> Outcome:
        if run is not None:
            return await run(label, method, path, ok, **kwargs)
        url = path if path.startswith("http") else f"{probe.base}{path}"
        outcome = await send(probe.http, method, url, ok=ok, **kwargs)
        if not outcome.ok:
            raise RuntimeError(f"{label}: {outcome.label} {outcome.body}")
        return outcome

    placed = await step("POST /api/orders", "POST", "/api/orders", (201,),
                        json=order_body((product_id, 1)), headers=buyer.headers)
    started = await step("POST /api/payments", "POST", "/api/payments", (201,),
                         json={"orderId": placed.data["data"]["id"]},
                         headers={**buyer.headers, "Idempotency-Key": key})
    gateway_order = started.data["data"]["gatewayOrderId"]
    paid = await step("POST sandbox /checkout/{id}", "POST", f"{sandbox}/checkout/{gateway_order}",
                      json={"outcome": "success", "deliverWebhook": False})
    await step("POST /api/payments/verify", "POST", "/api/payments/verify", json=paid.data,
               headers=buyer.headers)


async def concurrent(label: str, jobs: list[Any]) -> str:
    LISTENER.reset()
    runs, attempts = TransactionCounter.transactions, TransactionCounter.attempts
    results = await asyncio.gather(*jobs, return_exceptions=True)
    runs, attempts = TransactionCounter.transactions - runs, TransactionCounter.attempts - attempts
    failures = [r for r in results if isinstance(r, BaseException)]
    taken = LISTENER.taken()
    commits = sum(1 for c in taken if c.name == "commitTransaction" and not c.failed)
    failed = Counter(f"{c.name} {c.target} {c.failed}".replace("  ", " ") for c in taken if c.failed)
    aborts = sum(1 for c in taken if c.name == "abortTransaction")
    line = (f"- {label}: {len(jobs) - len(failures)} of {len(jobs)} succeeded; "
            f"{len(taken)} commands; transactions started {LISTENER.started_transactions}, "
            f"committed {commits}, aborted {aborts} → {LISTENER.started_transactions - commits} "
            f"attempts retried or abandoned; failed commands: "
            + (", ".join(f"{k} ×{v}" for k, v in failed.most_common()) or "none")
            + f"; app's transaction helper: {runs} transactions, {attempts - runs} reruns")
    if failures:
        line += f"; first failure: {str(failures[0])[:200]}"
    print(line, flush=True)
    return line


async def main(products: int) -> None:
    server = EmbeddedMongo(":memory:").start()
    config = Settings(
        log_level="WARNING", background_tasks_enabled=False,
        database=DatabaseSettings(mongodb_url=server.url, mongodb_db=DB_NAME),
        auth=AuthSettings(bootstrap_admin_email=ADMIN_EMAIL,
                          bootstrap_admin_password=ADMIN_PASSWORD),
        rate_limits=RateLimitSettings(enabled=False),
    )
    try:
        async with running_live(config) as live, aiohttp.ClientSession() as http:
            base = live.base_url
            seeded = await seed.accounts(http, base)
            await seed.insert_products(get_database(), seeded, 0, products - 1)
            await seed.api_product(http, base, seeded)
            await seed.orders(http, base, seeded, count=50)
            while await audit_tasks.sequence_pending():
                pass
            print(f"# MongoDB commands per request ({products:,} products)\n", flush=True)
            probe = Probe(http, base)
            buyer, (order_buyer, order_id) = seeded.customers[0], seeded.orders[0]
            product_id = seeded.product_ids[0]
            for _ in range(2):  # the second pass is the one kept (warm caches)
                probe.lines.clear()
                await probe.count("GET /health", "GET", "/health", sequencer=False)
                for query in ("limit=20", "limit=20&q=oled", "limit=20&brand=Samsung",
                              "limit=20&category=battery", "limit=20&sort=price"):
                    await probe.count(f"GET /api/products?{query}", "GET",
                                      f"/api/products?{query}", sequencer=False)
                await probe.count("GET /api/products/{id}", "GET", f"/api/products/{product_id}",
                                  sequencer=False)
                await probe.count("GET /api/users/me", "GET", "/api/users/me",
                                  headers=buyer.headers, sequencer=False)
                await probe.count("GET /api/orders/{id}", "GET", f"/api/orders/{order_id}",
                                  headers=order_buyer.headers, sequencer=False)
                await probe.count("POST /api/auth/login", "POST", "/api/auth/login",
                                  json={"email": buyer.email, "password": seed.PASSWORD})
                await purchase(probe, buyer, product_id, f"bench-commands-{_}", count=True)
            print("\n# Under concurrency\n", flush=True)
            buyers = seeded.customers[:32]
            await concurrent("32 purchases at once (32 buyers, distinct products)", [
                purchase(probe, b, seeded.product_ids[10 + n], f"bench-conc-{n:04d}", count=False)
                for n, b in enumerate(buyers)])
            await concurrent("32 purchases at once of one product", [
                purchase(probe, b, seeded.product_ids[5], f"bench-hot-{n:04d}", count=False)
                for n, b in enumerate(buyers)])
            await concurrent("50 orders at once (50 buyers)", [
                send(http, "POST", f"{base}/api/orders", ok=(201,),
                     json=order_body((seeded.product_ids[100 + n], 1)), headers=b.headers)
                for n, b in enumerate(seeded.customers[:50])])
            LISTENER.reset()
            chained = 0
            while batch := await audit_tasks.sequence_pending():
                chained += batch
            print(f"- audit sequencer afterwards: {chained} entries, "
                  f"{describe(LISTENER.taken())[:300]}")
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=10_000)
    asyncio.run(main(parser.parse_args().products))
