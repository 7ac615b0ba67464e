"""Reading the catalogue: one product, browsing listed products, a dealer's products."""

import asyncio
import gc
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from itertools import islice

from app.catalog import repository
from app.catalog.access import Viewer, listed_json, present, view_for
from app.catalog.exceptions import DealerNotFound, ProductNotFound
from app.catalog.models import ProductStatus
from app.catalog.readmodel import REBUILD_AT, Key, Listed, Snapshot, to_listed
from app.catalog.schemas import BrowseFilters, ProductRead, ProductSort
from app.core.database import Database, get_database
from app.core.errors import BadRequest, RuleViolation
from app.core.pagination import PageRequest, decode_cursor, encode_cursor
from app.core.permissions import Actor
from app.dealers import service as dealers_service

MAX_STOCK_BATCH = 400  # ids per stock read while filling an in-stock page
FREEZE_AT = 2_000  # listed products from which the model is frozen out of the GC's reach
MAX_SHARED_IDS = 1_000  # ids in one stock read shared by concurrent requests
BUILD_CHUNK = 500  # products turned into read-model entries between yields to the loop


async def get_product(actor: Actor | None, product_id: str) -> ProductRead:
    viewer = Viewer(actor)
    item = await repository.get_visible(viewer, product_id)
    if item is None:
        raise ProductNotFound
    return present(viewer, item)


async def browse(
    actor: Actor | None, filters: BrowseFilters, page: PageRequest
) -> tuple[list[bytes], str | None]:
    """Listed products (active, of a selling dealer); prices filter/sort on the caller's channel.

    Served from the process's read model (readmodel.py), each item's JSON pre-rendered for the
    caller's view with its stock read fresh. One command per page: the stock of the listed ids
    and the catalogue version together; when the version moved since the model's snapshot
    (a change in any process), the model catches up and the page is made again.
    """
    if (filters.min_price is not None and filters.max_price is not None
            and filters.min_price > filters.max_price):
        raise RuleViolation("minPrice must not exceed maxPrice", {"errors": [
            {"field": "query.minPrice", "message": "must not exceed maxPrice"}]})
    viewer = Viewer(actor)
    price_field = viewer.price_field
    after = _after(page.cursor, filters.sort)
    model = read_model()
    snapshot = await model.ready()
    for attempt in range(2):
        if filters.in_stock:
            found, stock, version = await _in_stock_page(model, snapshot, filters, price_field,
                                                         after, page.limit)
        else:
            found = snapshot.page(filters, price_field, after, page.limit)
            stock, version = await model.stock([item.id for item in found[: page.limit]])
        if version <= snapshot.version or attempt == 1:
            break
        snapshot = await model.caught_up(version)
    items = [listed_json(item.views[view_for(viewer, item.dealer_id)], stock.get(item.id, 0))
             for item in found[: page.limit]]
    if len(found) <= page.limit:
        return items, None
    last = found[page.limit - 1]
    value = last.created_at if filters.sort is ProductSort.NEWEST else getattr(last, price_field)
    return items, encode_cursor(value, last.id, sort=_sort_name(filters.sort))


def _sort_name(sort: ProductSort) -> str:
    return {ProductSort.NEWEST: "newest", ProductSort.PRICE: "price",
            ProductSort.PRICE_DESC: "-price"}[sort]


def _after(cursor: str | None, sort: ProductSort) -> Key | None:
    """The (sort value, id) a cursor points after; 400 unless it fits the sort order."""
    if cursor is None:
        return None
    value, last_id = decode_cursor(cursor, sort=_sort_name(sort))
    if sort is ProductSort.NEWEST:
        if not isinstance(value, datetime):
            raise BadRequest("Invalid cursor")
        return (value if value.tzinfo else value.replace(tzinfo=UTC)), last_id
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest("Invalid cursor")
    return value, last_id


async def _in_stock_page(
    model: "ReadModel", snapshot: Snapshot, filters: BrowseFilters, price_field: str,
    after: Key | None, limit: int,
) -> tuple[list[Listed], dict[str, int], int]:
    """Up to `limit + 1` matches that have stock: candidates in growing batches, each batch's
    stock read by id, until the page is full or the candidates run out."""
    candidates = snapshot.scan(filters, price_field, after)
    found: list[Listed] = []
    stock: dict[str, int] = {}
    version: int | None = None
    batch = limit + 1
    while len(found) <= limit:
        chunk = list(islice(candidates, batch))
        if not chunk and version is not None:
            break
        available, seen = await model.stock([item.id for item in chunk])
        if version is None:
            version = seen
            if version > snapshot.version:  # the caller catches up and asks again
                break
        for item in chunk:
            if available.get(item.id, 0) >= 1 and len(found) <= limit:
                found.append(item)
                stock[item.id] = available[item.id]
        if len(chunk) < batch:
            break
        batch = min(batch * 2, MAX_STOCK_BATCH)
    return found, stock, version or 0


# --- the process's read model ----------------------------------------------------------


class ReadModel:
    """One process's browse read model of one database: loaded once, then kept at the
    catalogue version the database reports by fetching the products stamped since."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.snapshot: Snapshot | None = None
        self._lock = asyncio.Lock()
        self.stock = StockReads(repository.stock_and_version)

    async def ready(self) -> Snapshot:
        """The current snapshot; the first call loads every listed product."""
        if self.snapshot is None:
            async with self._lock:
                if self.snapshot is None:
                    version = await repository.catalog_version()
                    docs = await repository.listed_products()
                    self.snapshot = Snapshot.build(version, await _entries(docs))
        return self.snapshot

    async def caught_up(self, version: int) -> Snapshot:
        """A snapshot at `version` or later (one fetch for all callers waiting for it).

        Versions commit in order (CatalogState), so once the database reported `version`,
        every product stamped up to it is readable: fetching those stamped after ours and
        replacing them (or dropping the unlisted ones) gives the catalogue at `version`.
        """
        current = await self.ready()
        if current.version >= version:
            return current
        async with self._lock:
            current = self.snapshot or current
            if current.version >= version:
                return current
            docs = await repository.products_changed_since(current.version)
            changes = dict(zip([doc["_id"] for doc in docs], await _entries(docs, keep_none=True),
                               strict=True))
            self.snapshot = current.applied(version, changes)
            if len(changes) > REBUILD_AT:
                settle_heap(len(self.snapshot), collect=False)
            return self.snapshot

    async def refresh(self) -> bool:
        """Catch up with the database now (the background refresher); True if it moved."""
        current = await self.ready()
        version = await repository.catalog_version()
        if version <= current.version:
            return False
        await self.caught_up(version)
        return True


class StockReads:
    """Stock of listed ids and the catalogue version, read for concurrent requests together.

    A request never gets a result read before it asked: when no read is running, its read
    starts at once (alone: one command, no added wait); when one is running, it waits for
    it to end and then shares the NEXT read with every request that arrived meanwhile (the
    union of their ids, up to MAX_SHARED_IDS). So each answer is as fresh as a read of its
    own, and under load one command serves many requests instead of one each.
    """

    def __init__(self, read: Callable[[list[str]], Awaitable[tuple[dict[str, int], int]]]):
        self._read = read
        self._waiting: list[tuple[list[str], asyncio.Future[tuple[dict[str, int], int]]]] = []
        self._running: asyncio.Task[None] | None = None

    async def __call__(self, product_ids: list[str]) -> tuple[dict[str, int], int]:
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((product_ids, future))
        if self._running is None:
            self._running = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, ids = [], {}
                while self._waiting and (not batch or len(ids) + len(self._waiting[0][0])
                                         <= MAX_SHARED_IDS):
                    wanted, future = self._waiting.pop(0)
                    batch.append(future)
                    ids.update(dict.fromkeys(wanted))
                try:
                    stock, version = await self._read(list(ids))
                except Exception as exc:  # each waiting request fails as its own read would
                    for future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for future in batch:
                    if not future.done():
                        future.set_result((stock, version))
        finally:
            self._running = None


def settle_heap(listed: int, collect: bool) -> None:
    """Move what the process holds now (a freshly built read model among it: ~20 objects per
    product) out of the garbage collector's reach, so that full collections stop walking it
    on every pass: measured, a full collection of the API process took ~120 ms before the
    model and ~220 ms with 10,000 products in it, ~0 after `gc.freeze()`. Frozen objects are
    still freed by reference counting when a later snapshot replaces them (the model has no
    reference cycles). `collect` first drops the cyclic garbage (start-up only: it pauses).
    Only for a big model (FREEZE_AT): objects frozen and later left in a reference cycle are
    never freed, which a small catalogue (or a test run starting many apps) does not repay."""
    if listed < FREEZE_AT:
        return
    if collect:
        gc.collect()
    gc.freeze()


async def _entries(docs: list[dict], keep_none: bool = False) -> list:
    """Read-model entries of stored products, yielding to other requests between chunks."""
    entries = []
    for start in range(0, len(docs), BUILD_CHUNK):
        if start:
            await asyncio.sleep(0)
        for doc in docs[start: start + BUILD_CHUNK]:
            entry = to_listed(doc)
            if entry is not None or keep_none:
                entries.append(entry)
    return entries


_model: ReadModel | None = None


def read_model() -> ReadModel:
    """This process's read model of the current database (a new one for a new database)."""
    global _model
    database = get_database()
    if _model is None or _model.database is not database:
        _model = ReadModel(database)
    return _model


async def list_dealer_products(
    actor: Actor | None, dealer_id: str, status: ProductStatus | None, page: PageRequest
) -> tuple[list[ProductRead], str | None]:
    """A dealer's products: all but archived (or `status`) for the owner and admins,
    only listed ones for everyone else (and none of a dealer that is not selling)."""
    viewer = Viewer(actor)
    if not viewer.manages_dealer(dealer_id):
        dealer = await dealers_service.get_dealer(dealer_id)
        if not dealers_service.is_selling(dealer):
            raise DealerNotFound
    found, next_cursor = await repository.page_dealer_products(viewer, dealer_id, status, page)
    return [present(viewer, item, with_history=False) for item in found], next_cursor
