"""Seed data: accounts, dealers and orders over HTTP (what a user would do); the bulk of the
catalogue straight into the database, as the app's own Beanie documents (exact shape)."""

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiohttp
from pymongo.asynchronous.database import AsyncDatabase

from app.catalog import repository as catalog_repository
from app.catalog.listing import _listing_keys
from app.catalog.models import CatalogState, Inventory, PriceChange, Product, stored_now
from app.catalog.search import sku_key
from app.core.database import Database, Session
from bench.load import send
from bench.procs import ADMIN_EMAIL, ADMIN_PASSWORD, DB_NAME
from tests.catalog.factories import product_body
from tests.dealers.factories import dealer_profile
from tests.orders.factories import order_body

PASSWORD = "Bench-Passw0rd-Horse"
DEALERS = 5
CUSTOMERS = 100  # the first 50 are "the 50 customers"; all 100 race for 10 units
STOCK = 1_000_000  # per ordinary product: the order scenarios never run out
CATALOGUE: dict[str, tuple[str, list[str]]] = {  # brand -> (model prefix, models)
    "Apple": ("iPhone", ["11", "12", "13", "14", "15 Pro"]),
    "Samsung": ("Galaxy", ["S21", "S22", "S23", "A52", "M31"]),
    "Xiaomi": ("Redmi", ["Note 10", "Note 11", "Note 12", "9A", "10 Prime"]),
    "OnePlus": ("OnePlus", ["9", "10 Pro", "Nord", "Nord CE", "11R"]),
    "Vivo": ("Vivo", ["V21", "Y20", "T1", "X60", "Y33s"]),
}
PARTS: list[tuple[str, str]] = [  # (category, title)
    ("display", "OLED display assembly"), ("display", "LCD touch screen combo"),
    ("battery", "Li-ion battery replacement"), ("camera", "Rear camera module"),
    ("charging_port", "Charging port flex cable"), ("back_panel", "Back glass panel"),
    ("speaker", "Loudspeaker module"), ("housing", "Mid frame housing"),
]
GRADES = ["Original", "Premium", "OEM grade", "Compatible"]
_sku = itertools.count(1)


@dataclass
class Account:
    id: str
    email: str
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Seeded:
    admin: Account
    dealers: list[tuple[Account, str]] = field(default_factory=list)  # (account, dealerId)
    customers: list[Account] = field(default_factory=list)
    product_ids: list[str] = field(default_factory=list)  # ordinary products, big stock
    orders: list[tuple[Account, str]] = field(default_factory=list)  # (buyer, orderId)


async def _ok(outcome_coro: Any, what: str) -> Any:
    outcome = await outcome_coro
    if not outcome.ok:
        raise RuntimeError(f"seeding failed at {what}: {outcome.label} {outcome.body}")
    return outcome.data["data"]


async def login(http: aiohttp.ClientSession, base: str, email: str, password: str) -> Account:
    data = await _ok(send(http, "POST", f"{base}/api/auth/login",
                          json={"email": email, "password": password}), "login")
    return Account(data["user"]["id"], email, data["accessToken"])


async def signup(http: aiohttp.ClientSession, base: str, role: str, n: int) -> Account:
    email = f"bench-{role}-{n}@example.com"
    await _ok(send(http, "POST", f"{base}/api/auth/signup", ok=(201,), json={
        "email": email, "password": PASSWORD, "role": role, "name": f"Bench {role} {n}"}),
        "signup")
    return await login(http, base, email, PASSWORD)


async def _bounded(limit: int, jobs: list[Any]) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(job: Any) -> Any:
        async with gate:
            return await job

    return await asyncio.gather(*(one(job) for job in jobs))


async def accounts(http: aiohttp.ClientSession, base: str) -> Seeded:
    seeded = Seeded(admin=await login(http, base, ADMIN_EMAIL, ADMIN_PASSWORD))
    for n in range(DEALERS):
        account = await signup(http, base, "dealer", n)
        dealer = await _ok(send(http, "POST", f"{base}/api/dealers", ok=(201,),
                                json=dealer_profile(), headers=account.headers), "dealer profile")
        await _ok(send(http, "PATCH", f"{base}/api/dealers/{dealer['id']}/status",
                       json={"action": "approve"}, headers=seeded.admin.headers), "approve")
        seeded.dealers.append((account, dealer["id"]))
    seeded.customers = await _bounded(
        4, [signup(http, base, "customer", n) for n in range(CUSTOMERS)]
    )
    return seeded


def _documents(dealers: list[tuple[Account, str]], start: int, count: int,
               stock: int) -> tuple[list[Product], list[Inventory]]:
    """Products as `listing.create_product` builds them (same fields, keys and tokens)."""
    products, inventories = [], []
    now = stored_now()
    brands = list(CATALOGUE)
    for n in range(start, start + count):
        account, dealer_id = dealers[n % len(dealers)]
        brand = brands[n % len(brands)]
        prefix, models = CATALOGUE[brand]
        model = f"{prefix} {models[(n // len(brands)) % len(models)]}"
        category, part = PARTS[(n // 25) % len(PARTS)]
        title = f"{GRADES[n % len(GRADES)]} {part} for {model} #{n}"
        b2c = 60_000 + (n * 7919) % 140_000
        prices = {"b2b_price": b2c - 10_000, "b2c_price": b2c, "mrp": b2c + 20_000}
        sku = f"BENCH-{next(_sku):06d}"
        created = now - timedelta(milliseconds=start + count - n)
        product = Product(
            dealer_id=dealer_id, sku=sku, sku_key=sku_key(sku), title=title, brand=brand,
            category=category, compatible_models=[model],
            description=f"{part} for {model}", **prices, dealer_listed=True,
            **_listing_keys(brand, title, [model]),
            price_history=[PriceChange(actor_id=account.id, at=created, **prices)],
            created_at=created, updated_at=created,
        )
        products.append(product)
        inventories.append(Inventory(
            id=product.id, product_id=product.id, dealer_id=dealer_id, quantity=stock,
            reserved_count=0, available=stock, created_at=created, updated_at=created,
        ))
    return products, inventories


async def insert_products(database: Database, seeded: Seeded, start: int, count: int,
                          stock: int = STOCK, batch: int = 500) -> list[str]:
    """Insert `count` products (and their inventory) through the app's Beanie documents, which
    must be initialised on the database; numbered from `start` (titles and SKUs are unique).

    As `listing.create_product` does, each batch takes the next catalogue version and stamps
    its products with it in one transaction, so the API's browse read model fetches them."""
    ids: list[str] = []
    for offset in range(0, count, batch):
        size = min(batch, count - offset)
        products, inventories = _documents(seeded.dealers, start + offset, size, stock)

        async def work(session: Session, products: list[Product] = products,
                       inventories: list[Inventory] = inventories) -> None:
            version = await catalog_repository.bump_catalog_version(session)
            for product in products:
                product.catalog_version = version
            await Product.insert_many(products, session=session)
            await Inventory.insert_many(inventories, session=session)

        await database.transaction(work)
        ids.extend(product.id for product in products)
    if stock == STOCK:
        seeded.product_ids.extend(ids)
    return ids


async def same_shape(db: AsyncDatabase, api_made: str, bulk_made: str) -> None:
    """The bulk documents have exactly the fields of a product created through the API."""
    for collection in ("products", "inventory"):
        api_doc = await db[collection].find_one({"_id": api_made})
        bulk_doc = await db[collection].find_one({"_id": bulk_made})
        assert api_doc is not None and bulk_doc is not None
        if set(api_doc) != set(bulk_doc):
            raise RuntimeError(f"bulk {collection} shape differs from the API's: "
                               f"{sorted(set(api_doc) ^ set(bulk_doc))}")


class Catalogue:
    """Bulk inserts on the bench's own connection (Beanie initialised on it)."""

    def __init__(self, url: str) -> None:
        # SecantusDB closes a connection idle for 300 s, and a write (retryWrites=false) on
        # such a pooled connection fails with AutoReconnect: retire idle ones before that.
        self.database = Database(f"{url}&maxIdleTimeMS=60000", DB_NAME)
        self.serial = 0  # numbers titles and SKUs, so every listing is unique

    async def __aenter__(self) -> "Catalogue":
        await self.database.init_documents([Product, Inventory, CatalogState])
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.database.close()

    async def insert(self, seeded: Seeded, count: int, stock: int = STOCK) -> list[str]:
        ids = await insert_products(self.database, seeded, self.serial, count, stock)
        self.serial += count
        return ids

    async def same_shape(self, api_made: str, bulk_made: str) -> None:
        await same_shape(self.database.db, api_made, bulk_made)


async def api_product(http: aiohttp.ClientSession, base: str, seeded: Seeded) -> str:
    """One product listed through the API: a real write after a bulk insert (so anything the
    app keys on catalogue writes sees one), and the reference for the shape check."""
    account, _ = seeded.dealers[0]
    body = product_body(sku=f"BENCH-API-{next(_sku):06d}", stock=STOCK, b2cPrice=80_000,
                        b2bPrice=70_000, mrp=99_000)
    data = await _ok(send(http, "POST", f"{base}/api/products", ok=(201,), json=body,
                          headers=account.headers), "POST /api/products")
    seeded.product_ids.append(data["id"])
    return data["id"]


async def orders(http: aiohttp.ClientSession, base: str, seeded: Seeded, count: int = 50) -> None:
    async def place(n: int) -> tuple[Account, str]:
        buyer = seeded.customers[n % 50]
        product_id = seeded.product_ids[n % len(seeded.product_ids)]
        data = await _ok(send(http, "POST", f"{base}/api/orders", ok=(201,),
                              json=order_body((product_id, 1)), headers=buyer.headers), "order")
        return buyer, data["id"]

    seeded.orders = await _bounded(8, [place(n) for n in range(count)])
