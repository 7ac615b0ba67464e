"""Where the sandbox keeps Razorpay's entities and its webhook events: in memory by default,
behind an interface so another store (a database, a file) can take its place."""

import asyncio
import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

EntityKind = Literal["order", "payment", "refund", "contact", "fund_account", "payout"]
Entity = dict[str, Any]


@dataclass
class WebhookDelivery:
    at: int
    status_code: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass
class WebhookEventRecord:
    """One event as sent: redelivery sends these exact bytes with the same id and signature."""

    id: str
    event: str
    body: bytes
    created_at: int
    deliveries: list[WebhookDelivery] = field(default_factory=list)


@dataclass(frozen=True)
class RefundKey:
    """What an `X-Refund-Idempotency` key was first used for."""

    fingerprint: str
    refund_id: str


@dataclass(frozen=True)
class PayoutKey:
    """What an `X-Payout-Idempotency` key was first used for."""

    fingerprint: str
    payout_id: str


class SandboxStore(Protocol):
    def locked(self) -> Any:
        """An async context manager that serialises read-modify-write sequences."""
        ...

    async def get(self, kind: EntityKind, entity_id: str) -> Entity | None: ...

    async def put(self, kind: EntityKind, entity: Entity) -> None: ...

    async def find(self, kind: EntityKind, field_name: str, value: Any) -> list[Entity]:
        """Entities whose `field_name` equals `value`, oldest first."""
        ...

    async def get_refund_key(self, key: str) -> RefundKey | None: ...

    async def put_refund_key(self, key: str, refund_key: RefundKey) -> None: ...

    async def get_payout_key(self, key: str) -> PayoutKey | None: ...

    async def put_payout_key(self, key: str, payout_key: PayoutKey) -> None: ...

    async def add_event(self, event: WebhookEventRecord) -> None: ...

    async def get_event(self, event_id: str) -> WebhookEventRecord | None: ...

    async def recent_events(self, limit: int) -> list[WebhookEventRecord]:
        """The last `limit` events, oldest first."""
        ...

    async def add_delivery(self, event_id: str, delivery: WebhookDelivery) -> None: ...


class MemorySandboxStore:
    """Dicts in this process; `orders`, `payments`, `refunds`, `payouts`… and `events` are
    there to read in tests."""

    def __init__(self) -> None:
        self.orders: dict[str, Entity] = {}
        self.payments: dict[str, Entity] = {}
        self.refunds: dict[str, Entity] = {}
        self.contacts: dict[str, Entity] = {}
        self.fund_accounts: dict[str, Entity] = {}
        self.payouts: dict[str, Entity] = {}
        self.events: dict[str, WebhookEventRecord] = {}
        self.refund_keys: dict[str, RefundKey] = {}
        self.payout_keys: dict[str, PayoutKey] = {}
        self._lock: asyncio.Lock | None = None

    def _table(self, kind: EntityKind) -> dict[str, Entity]:
        return {"order": self.orders, "payment": self.payments, "refund": self.refunds,
                "contact": self.contacts, "fund_account": self.fund_accounts,
                "payout": self.payouts}[kind]

    @asynccontextmanager
    async def locked(self) -> AsyncIterator[None]:
        # Created on first use so it binds to the loop that serves requests.
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            yield

    async def get(self, kind: EntityKind, entity_id: str) -> Entity | None:
        entity = self._table(kind).get(entity_id)
        return copy.deepcopy(entity) if entity is not None else None

    async def put(self, kind: EntityKind, entity: Entity) -> None:
        self._table(kind)[entity["id"]] = copy.deepcopy(entity)

    async def find(self, kind: EntityKind, field_name: str, value: Any) -> list[Entity]:
        return [
            copy.deepcopy(entity)
            for entity in self._table(kind).values()
            if entity.get(field_name) == value
        ]

    async def get_refund_key(self, key: str) -> RefundKey | None:
        return self.refund_keys.get(key)

    async def put_refund_key(self, key: str, refund_key: RefundKey) -> None:
        self.refund_keys[key] = refund_key

    async def get_payout_key(self, key: str) -> PayoutKey | None:
        return self.payout_keys.get(key)

    async def put_payout_key(self, key: str, payout_key: PayoutKey) -> None:
        self.payout_keys[key] = payout_key

    async def add_event(self, event: WebhookEventRecord) -> None:
        self.events[event.id] = event

    async def get_event(self, event_id: str) -> WebhookEventRecord | None:
        return self.events.get(event_id)

    async def recent_events(self, limit: int) -> list[WebhookEventRecord]:
        if limit <= 0:
            return []
        return list(self.events.values())[-limit:]

    async def add_delivery(self, event_id: str, delivery: WebhookDelivery) -> None:
        if event := self.events.get(event_id):
            event.deliveries.append(delivery)
