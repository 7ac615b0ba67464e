"""The browse read model: every listed product in memory, sorted once per browse order.

The embedded database materialises and sorts every matching document for each query, so a
page of a big catalogue cannot come from it. Each API process keeps instead an immutable
`Snapshot` of the listed products (the fields browse filters and sorts on, plus their
pre-rendered JSON for each kind of caller) at one catalogue version; a page walks the
list of its order from the cursor and stops at `limit + 1` matches. A change is never
patched in place: `applied` returns a new snapshot (copy-on-write), so a page being read
keeps a consistent list while another request catches up. Stock is not in here: browse reads
the stock of the listed ids fresh (see browse.py). This module runs no query.
"""

from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

from app.catalog import search
from app.catalog.access import listed_views
from app.catalog.models import Product, ProductStatus
from app.catalog.schemas import BrowseFilters, ProductSort

NEWEST, B2C, B2B = "newest", "b2c_price", "b2b_price"
ORDERS = (NEWEST, B2C, B2B)
PAGE_CACHE_SIZE = 512  # pages (ids only) remembered per snapshot
REBUILD_AT = 256  # a change of more products than this re-sorts instead of patching

Key = tuple[Any, str]


@dataclass(frozen=True, slots=True)
class Listed:
    """A listed product as browse needs it."""

    id: str
    dealer_id: str
    created_at: datetime
    b2c_price: int
    b2b_price: int
    brand_key: str
    category: str
    model_keys: frozenset[str]
    search_tokens: tuple[str, ...]
    views: tuple[bytes, bytes, bytes]  # see access.listed_views

    def key(self, order: str) -> Key:
        return (self.created_at, self.id) if order == NEWEST else (getattr(self, order), self.id)


def to_listed(doc: dict[str, Any]) -> Listed | None:
    """The read model's entry for a stored product, or None when it is not listed."""
    product = Product.model_validate(doc)
    if product.status is not ProductStatus.ACTIVE or not product.dealer_listed:
        return None
    return Listed(
        id=product.id, dealer_id=product.dealer_id, created_at=product.created_at,
        b2c_price=product.b2c_price, b2b_price=product.b2b_price,
        brand_key=product.brand_key, category=product.category.value,
        model_keys=frozenset(product.model_keys), search_tokens=tuple(product.search_tokens),
        views=listed_views(product),
    )


def order_of(sort: ProductSort, price_field: str) -> tuple[str, bool]:
    """(sorted list, descending?) of a browse sort; prices on the caller's channel."""
    if sort is ProductSort.NEWEST:
        return NEWEST, True
    return (B2B if price_field == "b2b_price" else B2C), sort is ProductSort.PRICE_DESC


def matcher(filters: BrowseFilters, price_field: str) -> Callable[[Listed], bool]:
    """The browse filters as one predicate over a listed product."""
    tests: list[Callable[[Listed], bool]] = []
    if filters.category is not None:
        category = filters.category.value
        tests.append(lambda item: item.category == category)
    if filters.brand:
        brand = search.normalise(filters.brand)
        tests.append(lambda item: item.brand_key == brand)
    if filters.model:
        model = search.normalise(filters.model)
        tests.append(lambda item: model in item.model_keys)
    if filters.dealer_id:
        dealer_id = filters.dealer_id
        tests.append(lambda item: item.dealer_id == dealer_id)
    low, high = filters.min_price, filters.max_price
    if low is not None:
        tests.append(lambda item: getattr(item, price_field) >= low)
    if high is not None:
        tests.append(lambda item: getattr(item, price_field) <= high)
    if filters.q is not None:
        terms = search.query_terms(filters.q)
        if not terms:  # nothing searchable in the query: nothing matches
            return lambda item: False
        tests.append(lambda item: all(
            any(token.startswith(term) for token in item.search_tokens) for term in terms
        ))
    if not tests:
        return lambda item: True
    if len(tests) == 1:
        return tests[0]
    return lambda item: all(test(item) for test in tests)


def _sorted(entries: list[Listed], order: str) -> tuple[list[Key], list[Listed]]:
    pairs = sorted(((entry.key(order), entry) for entry in entries), key=lambda pair: pair[0])
    return [key for key, _ in pairs], [entry for _, entry in pairs]


class Snapshot:
    """The listed products at catalogue `version`; never changed once built."""

    def __init__(
        self, version: int, by_id: dict[str, Listed],
        lists: dict[str, tuple[list[Key], list[Listed]]],
    ) -> None:
        self.version = version
        self.by_id = by_id
        self._lists = lists
        self._pages: OrderedDict[tuple[Any, ...], list[Listed]] = OrderedDict()

    @classmethod
    def build(cls, version: int, entries: list[Listed]) -> "Snapshot":
        by_id = {entry.id: entry for entry in entries}
        values = list(by_id.values())
        return cls(version, by_id, {order: _sorted(values, order) for order in ORDERS})

    def __len__(self) -> int:
        return len(self.by_id)

    def applied(self, version: int, changes: dict[str, Listed | None]) -> "Snapshot":
        """A new snapshot at `version`: each changed product replaced, added or (None) removed."""
        by_id = dict(self.by_id)
        for product_id, entry in changes.items():
            if entry is None:
                by_id.pop(product_id, None)
            else:
                by_id[product_id] = entry
        if len(changes) > REBUILD_AT:
            return Snapshot.build(version, list(by_id.values()))
        lists = {}
        for order, (old_keys, old_entries) in self._lists.items():
            keys, entries = old_keys.copy(), old_entries.copy()
            for product_id, entry in changes.items():
                old = self.by_id.get(product_id)
                if old is not None:
                    index = bisect_left(keys, old.key(order))
                    del keys[index], entries[index]
                if entry is not None:
                    key = entry.key(order)
                    index = bisect_left(keys, key)
                    keys.insert(index, key)
                    entries.insert(index, entry)
            lists[order] = (keys, entries)
        return Snapshot(version, by_id, lists)

    def scan(
        self, filters: BrowseFilters, price_field: str, after: Key | None
    ) -> Iterator[Listed]:
        """Matching products in browse order, strictly after the cursor's key."""
        order, descending = order_of(filters.sort, price_field)
        keys, entries = self._lists[order]
        if descending:
            start = len(keys) - 1 if after is None else bisect_left(keys, after) - 1
            indexes = range(start, -1, -1)
        else:
            start = 0 if after is None else bisect_right(keys, after)
            indexes = range(start, len(keys))
        match = matcher(filters, price_field)
        return (entries[index] for index in indexes if match(entries[index]))

    def page(
        self, filters: BrowseFilters, price_field: str, after: Key | None, limit: int
    ) -> list[Listed]:
        """Up to `limit + 1` matches after the cursor (remembered for this snapshot)."""
        cache_key = (filters, price_field, after, limit)
        found = self._pages.get(cache_key)
        if found is None:
            found = list(islice(self.scan(filters, price_field, after), limit + 1))
            self._pages[cache_key] = found
            if len(self._pages) > PAGE_CACHE_SIZE:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(cache_key)
        return found

