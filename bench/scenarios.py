"""The scenarios of the performance issue: what each client sends, one unit at a time."""

import asyncio
import itertools
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import aiohttp
from pymongo.asynchronous.database import AsyncDatabase

from app.payments.gateway import SANDBOX_PATH
from bench.load import Call, Measured, Meter, Outcome, closed_loop, record, send
from bench.procs import Server
from bench.seed import CATALOGUE, Seeded
from tests.orders.factories import order_body

QUERIES = ["oled", "battery", "iphone 13", "galaxy", "camera module", "redmi note"]
CATEGORIES = ["display", "battery", "camera", "charging_port"]
BRANDS = list(CATALOGUE)
BROWSE: dict[str, tuple[str, Any]] = {  # name -> (what it is, query of the n-th request)
    "browse": ("newest first, no filter", lambda n: {"limit": 20}),
    "browse_q": ("search `q` (rotating: oled, battery, iphone 13, ...)",
                 lambda n: {"limit": 20, "q": QUERIES[n % len(QUERIES)]}),
    "browse_brand": ("`brand` filter (5 brands, rotating)",
                     lambda n: {"limit": 20, "brand": BRANDS[n % len(BRANDS)]}),
    "browse_category": ("`category` filter (rotating)",
                        lambda n: {"limit": 20, "category": CATEGORIES[n % len(CATEGORIES)]}),
    "browse_price": ("`sort=price` (cheapest first)", lambda n: {"limit": 20, "sort": "price"}),
}
RACE_BUYERS, RACE_UNITS = 100, 10
_keys = itertools.count(1)


@dataclass
class Context:
    server: Server
    seeded: Seeded
    db: AsyncDatabase
    clients: int
    seconds: float
    webhooks: bool = False

    @property
    def base(self) -> str:
        return self.server.base_url

    async def loop(self, http: aiohttp.ClientSession, name: str, call: Call,
                   http_per_unit: int = 1) -> Measured:
        return await closed_loop(self.server, http, name, self.clients, self.seconds, call,
                                 http_per_unit)


async def health(ctx: Context, http: aiohttp.ClientSession, name: str,
                 seconds: float | None = None) -> Measured:
    url = f"{ctx.base}/health"
    return await closed_loop(ctx.server, http, name, ctx.clients, seconds or ctx.seconds,
                             lambda h, w, n: send(h, "GET", url))


async def browse(ctx: Context, http: aiohttp.ClientSession, name: str, kind: str) -> Measured:
    url, params = f"{ctx.base}/api/products", BROWSE[kind][1]
    return await ctx.loop(http, name, lambda h, w, n: send(
        h, "GET", url, params=params(w * 1_000 + n)))


async def product(ctx: Context, http: aiohttp.ClientSession, name: str) -> Measured:
    ids = ctx.seeded.product_ids
    return await ctx.loop(http, name, lambda h, w, n: send(
        h, "GET", f"{ctx.base}/api/products/{ids[(w * 7919 + n * 31) % len(ids)]}"))


async def me(ctx: Context, http: aiohttp.ClientSession, name: str) -> Measured:
    buyers = ctx.seeded.customers[:50]
    return await ctx.loop(http, name, lambda h, w, n: send(
        h, "GET", f"{ctx.base}/api/users/me", headers=buyers[(w + n) % len(buyers)].headers))


async def order(ctx: Context, http: aiohttp.ClientSession, name: str) -> Measured:
    orders = ctx.seeded.orders

    def call(h: aiohttp.ClientSession, w: int, n: int) -> Any:
        buyer, order_id = orders[(w + n) % len(orders)]
        return send(h, "GET", f"{ctx.base}/api/orders/{order_id}", headers=buyer.headers)

    return await ctx.loop(http, name, call)


async def order_create(ctx: Context, http: aiohttp.ClientSession, name: str) -> Measured:
    buyers, ids = ctx.seeded.customers[:50], ctx.seeded.product_ids

    def call(h: aiohttp.ClientSession, w: int, n: int) -> Any:
        body = order_body((ids[(w * 7919 + n * 31) % len(ids)], 1))
        return send(h, "POST", f"{ctx.base}/api/orders", ok=(201,), json=body,
                    headers=buyers[(w + n * ctx.clients) % len(buyers)].headers)

    return await ctx.loop(http, name, call)


async def login(ctx: Context, http: aiohttp.ClientSession, name: str) -> Measured:
    from bench.seed import PASSWORD

    accounts = ctx.seeded.customers[:20]
    measured = await ctx.loop(http, name, lambda h, w, n: send(
        h, "POST", f"{ctx.base}/api/auth/login",
        json={"email": accounts[(w + n) % len(accounts)].email, "password": PASSWORD}))
    measured.notes.append(f"{measured.outcomes.get('429', 0)} of {measured.units} correct "
                          "sign-ins answered 429")
    return measured


async def purchase(ctx: Context, http: aiohttp.ClientSession, name: str) -> Measured:
    """What a buyer does (tests/payments/factories.py `paid`): order, start the payment,
    pay in the sandbox's Checkout, verify the signed result."""
    buyers, ids = ctx.seeded.customers[:ctx.clients], ctx.seeded.product_ids
    sandbox = f"{ctx.base}{SANDBOX_PATH}"
    steps: dict[str, list[float]] = defaultdict(list)

    async def step(label: str, *args: Any, **kwargs: Any) -> Outcome:
        started = time.perf_counter()
        outcome = await send(*args, **kwargs)
        steps[label].append(time.perf_counter() - started)
        if not outcome.ok:
            outcome.label = f"{label} {outcome.label}"
        return outcome

    async def call(h: aiohttp.ClientSession, w: int, n: int) -> Outcome:
        buyer = buyers[w % len(buyers)]
        body = order_body((ids[(w * 7919 + n * 31) % len(ids)], 1))
        placed = await step("order", h, "POST", f"{ctx.base}/api/orders", ok=(201,), json=body,
                            headers=buyer.headers)
        if not placed.ok:
            return placed
        started = await step("payment", h, "POST", f"{ctx.base}/api/payments", ok=(201,),
                             json={"orderId": placed.data["data"]["id"]},
                             headers={**buyer.headers,
                                      "Idempotency-Key": f"bench-{next(_keys):08d}"})
        if not started.ok:
            return started
        gateway_order = started.data["data"]["gatewayOrderId"]
        paid = await step("checkout", h, "POST", f"{sandbox}/checkout/{gateway_order}",
                          json={"outcome": "success", "deliverWebhook": ctx.webhooks})
        if not paid.ok:
            return paid
        verified = await step("verify", h, "POST", f"{ctx.base}/api/payments/verify",
                              json=paid.data, headers=buyer.headers)
        if verified.ok and verified.data["data"].get("status") != "captured":
            return Outcome(False, "verify not captured", str(verified.data["data"])[:300])
        return verified if not verified.ok else Outcome(True, "purchased")

    measured = await ctx.loop(http, name, call, http_per_unit=4)
    medians = []
    for label, values in steps.items():
        ordered = sorted(values)
        medians.append(f"{label} {ordered[len(ordered) // 2] * 1000:.0f}")
    measured.notes.append("p50 per step (ms): " + ", ".join(medians))
    return measured


async def race(ctx: Context, http: aiohttp.ClientSession, name: str,
               products: list[str]) -> Measured:
    """Rounds of 100 buyers ordering one unit each of a product with 10 in stock, all at
    once; each round must have exactly 10 winners and leave the stock exactly sold out."""
    buyers = ctx.seeded.customers[:RACE_BUYERS]
    measured = Measured(name, RACE_BUYERS, ctx.seconds)
    meter = Meter(ctx.server)
    meter.start()
    started = time.perf_counter()
    rounds, bad_rounds = 0, []
    for product_id in products:
        if rounds and time.perf_counter() - started >= ctx.seconds:
            break

        async def one(buyer: Any, product_id: str = product_id) -> Outcome:
            sent = time.perf_counter()
            outcome = await send(http, "POST", f"{ctx.base}/api/orders", ok=(201,),
                                 json=order_body((product_id, 1)), headers=buyer.headers)
            measured.latencies.append(time.perf_counter() - sent)
            if outcome.label == "422" and "INSUFFICIENT_STOCK" in outcome.body:
                outcome.ok = True  # lost the race: the answer a loser must get
            return outcome

        outcomes = await asyncio.gather(*(one(buyer) for buyer in buyers))
        rounds += 1
        for outcome in outcomes:
            record(measured, outcome)
        wins = sum(1 for outcome in outcomes if outcome.label == "201")
        stock = await ctx.db.inventory.find_one({"_id": product_id})
        assert stock is not None
        if wins != RACE_UNITS or stock["available"] != 0 or stock["reserved_count"] != RACE_UNITS:
            bad_rounds.append(f"{wins} won, available {stock['available']}, "
                              f"reserved {stock['reserved_count']}")
    measured.elapsed = time.perf_counter() - started
    meter.stop(measured)
    measured.notes.append(f"{rounds} rounds of {RACE_BUYERS} buyers for {RACE_UNITS} units: "
                          + ("exactly 10 won every round, stock exactly sold out"
                             if not bad_rounds else "WRONG: " + "; ".join(bad_rounds)))
    if bad_rounds:
        measured.errors += len(bad_rounds)
        measured.first_error = measured.first_error or f"race: {bad_rounds[0]}"
    return measured
