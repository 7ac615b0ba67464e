"""One queue of everything awaiting an admin decision, oldest first.

Each source is one kind of decision: the owning domain's service lists its waiting items
oldest first (one indexed query) and counts them, and names the route that decides them.
The queue merges the sources by (since, kind, subjectId); a page's cursor is that key of its
last item, so each source reads on from exactly there. A new kind is one more line in
SOURCES."""

import asyncio
import heapq
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from app.admin.schemas import ApprovalItem, DecideWith
from app.appeals import service as appeals_service
from app.core.errors import BadRequest
from app.core.pagination import PageRequest, decode_cursor, encode_cursor
from app.core.permissions import Actor
from app.core.queues import MAX_ID, QueuePosition, Waiting
from app.dealers import service as dealers_service
from app.orders import service as orders_service
from app.payouts import service as payouts_service
from app.technicians import service as technicians_service
from app.users import service as users_service

CURSOR_SORT = "approvals"

WaitingPage = Callable[[Actor, QueuePosition | None, int], Awaitable[list[Waiting]]]
WaitingCount = Callable[[Actor], Awaitable[int]]


@dataclass(frozen=True)
class ApprovalSource:
    kind: str
    waiting: WaitingPage
    count: WaitingCount
    method: str
    path: str  # `{id}` stands for the subject's id

    def item(self, waiting: Waiting) -> ApprovalItem:
        return ApprovalItem(
            kind=self.kind, subject_id=waiting.subject_id, since=waiting.since,
            decide_with=DecideWith(method=self.method,
                                   path=self.path.format(id=waiting.subject_id)))


SOURCES: list[ApprovalSource] = [
    ApprovalSource("dealer", dealers_service.awaiting_approval,
                   dealers_service.count_awaiting_approval, "PATCH", "/api/dealers/{id}/status"),
    ApprovalSource("technician", technicians_service.awaiting_approval,
                   technicians_service.count_awaiting_approval, "PATCH",
                   "/api/technicians/{id}/status"),
    ApprovalSource("b2b_buyer", users_service.awaiting_business_review,
                   users_service.count_awaiting_business_review, "PATCH",
                   "/api/users/{id}/business-verification"),
    ApprovalSource("payout_account", payouts_service.accounts_awaiting_verification,
                   payouts_service.count_accounts_awaiting_verification, "PATCH",
                   "/api/payouts/accounts/{id}/verification"),
    ApprovalSource("order_review", orders_service.on_review, orders_service.count_on_review,
                   "PATCH", "/api/admin/orders/{id}/review"),
    ApprovalSource("payout_review", payouts_service.on_review, payouts_service.count_on_review,
                   "PATCH", "/api/admin/payouts/{id}/review"),
    ApprovalSource("appeal", appeals_service.open_appeals, appeals_service.count_open,
                   "PATCH", "/api/admin/appeals/{id}"),
]


Key = tuple[datetime, str, str]  # (since, kind, subjectId): the queue's order


def _position(source: ApprovalSource, last: Key | None) -> QueuePosition | None:
    """Where `source` reads on after the item keyed `last`."""
    if last is None:
        return None
    at, kind, subject_id = last
    if source.kind < kind:
        return QueuePosition(at, MAX_ID)
    if source.kind == kind:
        return QueuePosition(at, subject_id)
    return QueuePosition(at)


def _key(item: ApprovalItem) -> Key:
    return item.since, item.kind, item.subject_id


def _last_of(cursor: str | None) -> Key | None:
    if cursor is None:
        return None
    since, packed = decode_cursor(cursor, CURSOR_SORT)
    kind, _, subject_id = packed.partition(" ")
    if (not isinstance(since, datetime) or since.tzinfo is None or not subject_id
            or kind not in {source.kind for source in SOURCES}):
        raise BadRequest("Invalid cursor")
    return since, kind, subject_id


async def page(actor: Actor, request: PageRequest) -> tuple[list[ApprovalItem], str | None]:
    """One page of the merged queue, oldest first, and the cursor of the next page."""
    last = _last_of(request.cursor)
    batches = await asyncio.gather(*(
        source.waiting(actor, _position(source, last), request.limit + 1) for source in SOURCES
    ))
    merged = heapq.merge(*(
        [source.item(waiting) for waiting in batch] for source, batch in zip(SOURCES, batches, strict=True)
    ), key=_key)
    items = [item for _, item in zip(range(request.limit + 1), merged, strict=False)]
    if len(items) <= request.limit:
        return items, None
    items = items[: request.limit]
    tail = items[-1]
    return items, encode_cursor(tail.since, f"{tail.kind} {tail.subject_id}", CURSOR_SORT)


async def counts(actor: Actor) -> dict[str, int]:
    """Items awaiting a decision, per kind (one indexed count each)."""
    found = await asyncio.gather(*(source.count(actor) for source in SOURCES))
    return {source.kind: count for source, count in zip(SOURCES, found, strict=True)}
