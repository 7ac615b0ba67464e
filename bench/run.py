"""The performance scenarios, measured from outside over HTTP against a real server.

    make bench                                   (full: 32 clients, 10 s each, 10,000 products)
    .venv/bin/python bench/run.py --quick        (smoke: 2 s each, 1,000 products)
    .venv/bin/python bench/run.py --scenarios health,browse_q,purchase --seconds 5

Starts SecantusDB (EmbeddedMongo, temporary directory) and the API (`python -m app.cli serve`,
what `make run` runs) as separate processes, seeds accounts and orders over HTTP and the
catalogue straight into the database, then runs each scenario as a closed loop of N
keep-alive aiohttp clients. Prints the table and writes bench/results.md. See bench/README.md.
"""

import argparse
import asyncio
import math
import subprocess
import sys
import time
from collections.abc import Awaitable
from pathlib import Path

import aiohttp

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the repository, not bench/

from bench import chat_fanout, load, report, scenarios, seed  # noqa: E402
from bench.load import Measured  # noqa: E402
from bench.procs import Server, machine  # noqa: E402
from bench.scenarios import BROWSE, Context  # noqa: E402

AFTER_BROWSE = ["product", "me", "order", "order_create", "race", "purchase", "login",
                "chat_fanout", "health_end"]
SCENARIOS = ["health", *BROWSE, *AFTER_BROWSE]
FIRST_TIER = 1_000
REFERENCE_SECONDS = 2.0
RESULTS = Path(__file__).resolve().parent / "results.md"


def _tier(count: int) -> str:
    return f"{count // 1000}k" if count % 1000 == 0 else str(count)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.chosen = set(args.scenarios)
        self.results: list[Measured] = []
        self.health_rate = 0.0

    def log(self, text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)

    async def scenario(self, name: str, job: Awaitable[Measured]) -> None:
        settled = await self.ctx.server.quiesce()
        reference = 0.0
        if not name.startswith("health") and "health" in self.chosen:
            # /health just before, on the same server: the ratio's denominator, taken under
            # the same neighbours' load as the scenario (this machine is shared).
            probe = await scenarios.health(self.ctx, self.http, "health", REFERENCE_SECONDS)
            reference = probe.rate
        self.log(f"{name}: running (waited {settled:.1f} s for the server to idle; "
                 f"/health just before: {reference:,.0f}/s)")
        spies = self.spy(name)
        measured = await job
        measured.reference_rate = reference
        for spy in spies:
            await asyncio.to_thread(spy.wait)
        self.results.append(measured)
        if name == "health":
            self.health_rate = measured.rate
        self.log(f"{name}: {measured.units} units, {measured.rate:,.1f}/s, "
                 f"p50 {measured.percentile(0.5):,.1f} ms, p99 {measured.percentile(0.99):,.1f} ms, "
                 f"errors {measured.errors}")

    def spy(self, name: str) -> list[subprocess.Popen[bytes]]:
        """py-spy on the API and on the database for the scenario's window (--profile)."""
        if self.args.profile is None:
            return []
        self.args.profile.mkdir(parents=True, exist_ok=True)
        spy = str(Path(sys.executable).with_name("py-spy"))
        server = self.ctx.server
        return [
            subprocess.Popen(
                [spy, "record", "-p", str(pid), "-d", str(math.ceil(self.args.seconds)),
                 "-r", "100", "--nonblocking", "-f", "raw",
                 "-o", str(self.args.profile / f"{name}-{which}.txt")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            for which, pid in (("api", server.api_pid), ("db", server.db_pid))
        ]

    async def run(self, server: Server) -> None:
        args, base = self.args, server.base_url
        self.base = base
        async with load.session(max(args.clients, scenarios.RACE_BUYERS)) as http, \
                seed.Catalogue(server.db_url) as catalogue:
            self.http = http
            started = time.monotonic()
            seeded = await seed.accounts(http, base)
            self.log(f"seeded {len(seeded.dealers)} dealers, {len(seeded.customers)} customers "
                     f"({time.monotonic() - started:.1f} s)")
            tiers = sorted({min(FIRST_TIER, args.products), args.products})
            await self.grow(catalogue, http, seeded, tiers[0])
            await seed.orders(http, base, seeded)
            self.ctx = Context(server, seeded, catalogue.database.db, args.clients, args.seconds,
                               args.webhooks)
            if "health" in self.chosen:
                await self.scenario("health", scenarios.health(self.ctx, http, "health"))
            for tier in tiers:
                await self.grow(catalogue, http, seeded, tier)
                for kind in BROWSE:
                    if kind in self.chosen:
                        name = f"{kind}@{_tier(tier)}"
                        await self.scenario(name, scenarios.browse(self.ctx, http, name, kind))
            for name in AFTER_BROWSE:
                if name not in self.chosen:
                    continue
                if name == "race":
                    products = await catalogue.insert(seeded, 50 if args.seconds > 3 else 5,
                                                      stock=scenarios.RACE_UNITS)
                    await seed.api_product(http, base, seeded)
                    job = scenarios.race(self.ctx, http, name, products)
                elif name == "chat_fanout":
                    job = chat_fanout.chat_fanout(self.ctx, name, args.chat_clients)
                elif name == "health_end":
                    job = scenarios.health(self.ctx, http, name)
                else:
                    job = getattr(scenarios, name)(self.ctx, http, name)
                await self.scenario(name, job)

    async def grow(self, catalogue: seed.Catalogue, http: aiohttp.ClientSession,
                   seeded: seed.Seeded, total: int) -> None:
        """Bring the catalogue to `total` listed products (bulk, then one through the API)."""
        missing = total - len(seeded.product_ids)
        if missing <= 0:
            return
        started = time.monotonic()
        await catalogue.insert(seeded, missing - 1)
        api_made = await seed.api_product(http, self.base, seeded)
        await catalogue.same_shape(api_made, seeded.product_ids[0])
        self.log(f"catalogue at {len(seeded.product_ids)} products "
                 f"({time.monotonic() - started:.1f} s)")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=None, help="per scenario (10; quick 2)")
    parser.add_argument("--products", type=int, default=None, help="10,000 (quick: 1,000)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help=f"comma-separated, of: {', '.join(SCENARIOS)}")
    parser.add_argument("--chat-clients", type=int, default=500,
                        help="Socket.IO clients in the chat_fanout room (500)")
    parser.add_argument("--quick", action="store_true", help="2 s per scenario, 1,000 products")
    parser.add_argument("--webhooks", action="store_true",
                        help="the sandbox also delivers the payment webhooks (off, as in tests)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--profile", type=Path, default=None, metavar="DIR",
                        help="record py-spy profiles of the API and the database for each "
                        "scenario's window into DIR (summarise: bench/flame.py)")
    parser.add_argument("--keep-running", action="store_true",
                        help="print the pids and wait for Enter before stopping (to profile)")
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (2.0 if args.quick else 10.0)
    args.products = args.products or (FIRST_TIER if args.quick else 10_000)
    args.scenarios = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    return args


async def main(args: argparse.Namespace) -> None:
    server = Server().start()
    bench = Bench(args)
    started = time.monotonic()
    sampler: asyncio.Task[None] | None = None
    try:
        await server.wait_ready()
        bench.log(f"API pid {server.api_pid} on {server.base_url}, database pid {server.db_pid}")
        sampler = asyncio.create_task(server.sample_forever())
        await bench.run(server)
        if args.keep_running:
            await asyncio.to_thread(input, "Server still running; Enter stops it. ")
    finally:
        if sampler is not None:
            sampler.cancel()
        server.stop()
    command = "python bench/run.py " + " ".join(sys.argv[1:])
    settings = {"command": command.strip(), "server": " ".join(server.command[1:]),
                "clients": str(args.clients), "seconds": f"{args.seconds:g}",
                "products": f"{args.products:,}"}
    peaks = (server.peak.api, server.peak.db)
    print()
    print(report.table(bench.results, bench.health_rate))
    print()
    print("\n".join(report.details(bench.results)))
    print(f"\npeak RSS: API {peaks[0] / report.MB:.0f} MB, database {peaks[1] / report.MB:.0f} MB; "
          f"whole run {time.monotonic() - started:.0f} s")
    report.write(args.output, report.markdown(bench.results, bench.health_rate, machine(),
                                              settings, peaks))
    print(f"written: {args.output}")


if __name__ == "__main__":
    asyncio.run(main(parse()))
