"""Hot-path benchmarks against the real embedded database; prints figures, asserts nothing.

    make bench            (or: .venv/bin/python bench/run.py --products 2000 --orders 300)

Runs the app in-process (ASGI) over a fresh SecantusDB, so the figures include the API,
the permission checks, the audit writes and every database round trip, but no network.
"""

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.audit import tasks as audit_tasks  # noqa: E402
from app.audit import verification as audit_verification  # noqa: E402
from app.core.config import (  # noqa: E402
    AuthSettings,
    DatabaseSettings,
    Environment,
    RateLimitSettings,
    Settings,
    settings,
)
from app.core.embedded import EmbeddedMongo  # noqa: E402
from app.main import create_app  # noqa: E402
from tests.catalog.factories import product_body  # noqa: E402
from tests.helpers import ADMIN_EMAIL, ADMIN_PASSWORD, Api  # noqa: E402
from tests.orders.factories import order_body, shop  # noqa: E402


def report(name: str, latencies: list[float], elapsed: float) -> None:
    ordered = sorted(latencies)
    p95 = ordered[int(len(ordered) * 0.95) - 1] if len(ordered) >= 20 else ordered[-1]
    print(f"{name:<38} {len(latencies):>6} req  {len(latencies) / elapsed:>8.0f}/s  "
          f"p50 {statistics.median(ordered) * 1000:>7.1f} ms  p95 {p95 * 1000:>7.1f} ms")


async def timed(
    concurrency: int, count: int, call: Callable[[int], Awaitable[None]]
) -> tuple[list[float], float]:
    latencies: list[float] = []
    queue = iter(range(count))

    async def worker() -> None:
        for n in queue:
            started = time.perf_counter()
            await call(n)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, time.perf_counter() - started


async def main(products: int, orders: int, concurrency: int) -> None:
    server = EmbeddedMongo(":memory:").start()
    config = Settings(
        app_env=Environment.TEST, log_level="WARNING",
        database=DatabaseSettings(mongodb_url=server.url, mongodb_db=f"bench_{uuid.uuid4().hex[:8]}"),
        auth=AuthSettings(bootstrap_admin_email=ADMIN_EMAIL, bootstrap_admin_password=ADMIN_PASSWORD),
        rate_limits=RateLimitSettings(enabled=False),
    )
    app = create_app(config)
    try:
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=60):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
                await run(Api(http), products, orders, concurrency)
    finally:
        server.stop()


async def run(api: Api, products: int, orders: int, concurrency: int) -> None:
    print(f"SecantusDB embedded, in-process ASGI, concurrency {concurrency}\n")
    seller = await shop(api)
    headers = seller.account.headers
    brands = ["Apple", "Samsung", "Xiaomi", "OnePlus", "Vivo"]

    async def create_product(n: int) -> None:
        body = product_body(brand=brands[n % 5], b2cPrice=60_000 + n, b2bPrice=50_000 + n,
                            mrp=90_000 + n, stock=1_000_000)
        response = await api.client.post("/api/products", json=body, headers=headers)
        assert response.status_code == 201, response.text

    report("POST /api/products", *await timed(concurrency, products, create_product))

    async def browse(n: int) -> None:
        params = {"q": "oled", "brand": brands[n % 5], "sort": "price", "limit": 20}
        response = await api.client.get("/api/products", params=params)
        assert response.status_code == 200, response.text

    report(f"GET /api/products (search, {products} items)", *await timed(concurrency, 300, browse))

    listed = (await api.client.get("/api/products", params={"limit": 50})).json()["data"]["items"]
    buyers = [await api.customer() for _ in range(concurrency)]

    async def place(n: int) -> None:
        buyer = buyers[n % len(buyers)]
        body = order_body((listed[n % len(listed)]["id"], 1))
        response = await api.client.post("/api/orders", json=body, headers=buyer.headers)
        assert response.status_code == 201, response.text

    report("POST /api/orders (reserve + audit)", *await timed(concurrency, orders, place))

    hot = listed[0]["id"]

    async def place_hot(n: int) -> None:
        buyer = buyers[n % len(buyers)]
        response = await api.client.post("/api/orders", json=order_body((hot, 1)),
                                         headers=buyer.headers)
        assert response.status_code == 201, response.text

    report("POST /api/orders (one hot product)", *await timed(concurrency, orders, place_hot))

    async def me(n: int) -> None:
        response = await api.client.get("/api/users/me", headers=buyers[n % len(buyers)].headers)
        assert response.status_code == 200

    report("GET /api/users/me (auth check)", *await timed(concurrency, 500, me))

    async def login(n: int) -> None:
        buyer = buyers[n % len(buyers)]
        response = await api.client.post("/api/auth/login",
                                         json={"email": buyer.email, "password": buyer.password})
        assert response.status_code == 200, response.text

    report("POST /api/auth/login (argon2id)", *await timed(min(concurrency, 4), 100, login))

    started = time.perf_counter()
    while await audit_tasks.sequence_pending():
        pass
    report_chain = await audit_verification.verify_chain(settings())
    elapsed = time.perf_counter() - started
    print(f"\naudit chain: {report_chain.checked} entries, valid={report_chain.valid}, "
          f"drained + verified in {elapsed:.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.products, args.orders, args.concurrency))
