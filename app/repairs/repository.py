"""Every query on the repair collections (jobs and offers), each served by an index.

Reads that return jobs take the actor and return only what it may see (app/core/policy.py):
the job's customer, its assigned technician, the technician holding its live offer, and
admins with REPAIRS_READ_ALL; the system's reads pass `SYSTEM_ACTOR`. The timers' scans
(`offers_expired`, `starts_due`) are system reads by nature.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from app.core import clock
from app.core.database import Session
from app.core.pagination import PageRequest, match, paginate
from app.core.permissions import Actor, Permission, Role
from app.core.policy import NOTHING, OwnerFields, Owners, may_see, sees_all, visibility_filter
from app.repairs.models import (
    ACTIVE_STATUSES,
    IssueType,
    OfferOutcome,
    OfferTally,
    Quote,
    Repair,
    RepairMode,
    RepairOffer,
    RepairStatus,
    StatusChange,
)

READ_ALL = Permission.REPAIRS_READ_ALL
REPAIR_OWNERS = OwnerFields(buyer="customer_id", technician="technician_id")
# The offers an acceptance rate is read from (newest first), and the outcomes that count.
RATE_WINDOW = 20
DECIDED = [OfferOutcome.ACCEPTED.value, OfferOutcome.DECLINED.value, OfferOutcome.EXPIRED.value]


def _repairs() -> AsyncCollection:
    return Repair.get_pymongo_collection()


def _offers() -> AsyncCollection:
    return RepairOffer.get_pymongo_collection()


def _tallies() -> AsyncCollection:
    return OfferTally.get_pymongo_collection()


def owners(repair: Repair) -> Owners:
    return Owners(buyer_id=repair.customer_id, technician_id=repair.technician_id)


def may_see_repair(actor: Actor | None, repair: Repair) -> bool:
    """Its customer, its technician, the technician it is offered to, read-all admins."""
    if may_see(actor, owners(repair), READ_ALL):
        return True
    offered = repair.offer.technician_id if repair.offer else None
    return offered is not None and may_see(actor, Owners(technician_id=offered), None)


async def get(repair_id: str, session: Session | None = None) -> Repair | None:
    """System scope: the job whoever asks (other domains' rules, jobs)."""
    doc = await _repairs().find_one({"_id": repair_id}, session=session)
    return Repair.model_validate(doc) if doc else None


async def get_visible(actor: Actor, repair_id: str) -> Repair | None:
    repair = await get(repair_id)
    return repair if repair is not None and may_see_repair(actor, repair) else None


async def insert(session: Session, repair: Repair) -> None:
    await repair.insert(session=session)


async def move(
    session: Session, repair: Repair, changes: dict[str, Any], entries: list[StatusChange],
    extra_filter: dict[str, Any] | None = None, offered: str | None = None,
) -> Repair | None:
    """Apply a transition only if the job is still at the status and version read (and
    `extra_filter`); `offered` joins the technicians never offered this job again."""
    update: dict[str, Any] = {
        "$set": {**changes, "updated_at": clock.utcnow()},
        "$inc": {"version": 1},
        "$push": {"status_history": {"$each": [e.model_dump(mode="python") for e in entries]}},
    }
    if offered:
        update["$addToSet"] = {"offered_technician_ids": offered}
    doc = await _repairs().find_one_and_update(
        {"_id": repair.id, "status": repair.status.value, "version": repair.version,
         **(extra_filter or {})},
        update, return_document=ReturnDocument.AFTER, session=session,
    )
    return Repair.model_validate(doc) if doc else None


async def mark_start_overdue(repair: Repair, at: datetime) -> bool:
    """Note the overdue-start alert once per acceptance (no version bump: not a transition)."""
    result = await _repairs().update_one(
        {"_id": repair.id, "status": RepairStatus.ACCEPTED.value, "version": repair.version,
         "start_overdue_alerted_at": None},
        {"$set": {"start_overdue_alerted_at": at}},
    )
    return result.modified_count == 1


# --- offers ------------------------------------------------------------------------------


async def insert_offer(session: Session, offer: RepairOffer) -> None:
    """Raises DuplicateKeyError when the technician was offered this job already, or holds
    another live offer (unique indexes `once_per_technician`, `one_live_offer`)."""
    await offer.insert(session=session)
    await _count_offer(session, offer.technician_id, "received")


async def decide_offer(session: Session, repair_id: str, technician_id: str,
                       outcome: OfferOutcome) -> None:
    decided = await _offers().update_one(
        {"repair_id": repair_id, "technician_id": technician_id,
         "outcome": OfferOutcome.PENDING.value},
        {"$set": {"outcome": outcome.value, "decided_at": clock.utcnow()}}, session=session,
    )
    if decided.modified_count == 1:
        await _count_offer(session, technician_id, outcome.value)


async def _count_offer(session: Session, technician_id: str, outcome: str) -> None:
    await _tallies().update_one({"_id": technician_id}, {"$inc": {outcome: 1}}, upsert=True,
                                session=session)


async def offer_tally(technician_id: str) -> OfferTally:
    """The technician's offers by outcome (one document by `_id`; zeros before its first)."""
    doc = await _tallies().find_one({"_id": technician_id})
    return OfferTally.model_validate(doc) if doc else OfferTally(id=technician_id)


async def job_counts(actor: Actor, technician_id: str) -> dict[str, int]:
    """The technician's jobs counted per status: one aggregation over `by_technician`
    (nothing unless `actor` sees its jobs: the technician itself, read-all admins)."""
    if not may_see(actor, Owners(technician_id=technician_id), READ_ALL):
        return {}
    pipeline = [{"$match": {"technician_id": technician_id}},
                {"$group": {"_id": "$status", "count": {"$sum": 1}}}]
    rows = await (await _repairs().aggregate(pipeline)).to_list()
    return {row["_id"]: int(row["count"]) for row in rows}


async def busy_technicians(technician_ids: list[str]) -> set[str]:
    """Which of these technicians have a job between accepted and completed."""
    if not technician_ids:
        return set()
    cursor = _repairs().find(
        {"technician_id": {"$in": technician_ids},
         "status": {"$in": [s.value for s in ACTIVE_STATUSES]}},
        {"technician_id": 1},
    )
    return {doc["technician_id"] for doc in await cursor.to_list()}


async def holding_live_offers(technician_ids: list[str]) -> set[str]:
    """Which of these technicians hold a pending offer (one_live_offer index)."""
    if not technician_ids:
        return set()
    cursor = _offers().find(
        {"technician_id": {"$in": technician_ids}, "outcome": OfferOutcome.PENDING.value},
        {"technician_id": 1},
    )
    return {doc["technician_id"] for doc in await cursor.to_list()}


async def recent_outcomes(technician_id: str) -> list[OfferOutcome]:
    """The outcomes of the technician's last RATE_WINDOW decided offers, newest first."""
    cursor = _offers().find(
        {"technician_id": technician_id, "outcome": {"$in": DECIDED}}, {"outcome": 1},
    ).sort([("offered_at", DESCENDING)]).limit(RATE_WINDOW)
    return [OfferOutcome(doc["outcome"]) for doc in await cursor.to_list()]


# --- the timers' scans -------------------------------------------------------------------


async def offers_expired(now: datetime, limit: int) -> list[Repair]:
    cursor = _repairs().find(
        {"status": RepairStatus.OFFERED.value, "offer.expires_at": {"$lte": now}}
    ).sort([("offer.expires_at", ASCENDING)]).limit(limit)
    return [Repair.model_validate(doc) for doc in await cursor.to_list()]


async def starts_due(due_before: datetime, limit: int) -> list[Repair]:
    """Accepted offline jobs due to start before `due_before` (by_start_due index)."""
    cursor = _repairs().find(
        {"status": RepairStatus.ACCEPTED.value, "start_due_at": {"$lte": due_before},
         "mode": RepairMode.OFFLINE.value}
    ).sort([("start_due_at", ASCENDING)]).limit(limit)
    return [Repair.model_validate(doc) for doc in await cursor.to_list()]


# --- lists -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RepairFilter:
    status: RepairStatus | None = None
    issue_type: IssueType | None = None
    technician_id: str | None = None
    customer_id: str | None = None
    offered_to: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def query(self) -> dict[str, Any]:
        equals = {"customer_id": self.customer_id, "technician_id": self.technician_id,
                  "status": self.status, "issue_type": self.issue_type,
                  "offer.technician_id": self.offered_to}
        return match(equals, "created_at", self.since, self.until)


def _mine(actor: Actor) -> dict[str, Any]:
    """The caller's own jobs: a technician's accepted ones, anyone else's bookings."""
    if actor.role is Role.TECHNICIAN:
        return {"technician_id": actor.technician_id} if actor.technician_id else NOTHING
    return {"customer_id": actor.id}


async def list_mine(actor: Actor, status: RepairStatus | None,
                    page: PageRequest) -> tuple[list[Repair], str | None]:
    """The caller's own jobs, newest first, as far as the viewer policy lets it see them."""
    own = _mine(actor)
    visible = visibility_filter(actor, REPAIR_OWNERS, None)
    query = {**RepairFilter(status=status).query(), **own}
    if not all(query.get(name) == value for name, value in visible.items()):
        query = {"$and": [query, visible]}
    docs, next_cursor = await paginate(_repairs(), query, page)
    return [Repair.model_validate(doc) for doc in docs], next_cursor


async def list_visible(actor: Actor, filters: RepairFilter,
                       page: PageRequest) -> tuple[list[Repair], str | None]:
    """Jobs matching `filters` that `actor` may see (read-all admins: every one)."""
    query = filters.query()
    visible = visibility_filter(actor, REPAIR_OWNERS, READ_ALL)
    if visible:
        query = {"$and": [query, visible]}
    docs, next_cursor = await paginate(_repairs(), query, page)
    return [Repair.model_validate(doc) for doc in docs], next_cursor


async def offers_waiting(actor: Actor, now: datetime) -> list[Repair]:
    """Jobs offered to the caller's technician profile whose offer is still live."""
    if not actor.technician_id:
        return []
    cursor = _repairs().find(
        {"offer.technician_id": actor.technician_id, "status": RepairStatus.OFFERED.value,
         "offer.expires_at": {"$gt": now}}
    ).sort([("offer.expires_at", ASCENDING)])
    repairs = [Repair.model_validate(doc) for doc in await cursor.to_list()]
    return [repair for repair in repairs if may_see_repair(actor, repair)]


# --- the payment terminal: quotes, payment, parts orders ----------------------------------


async def _update_as_read(
    session: Session | None, repair: Repair, guard: dict[str, Any], fields: dict[str, Any]
) -> Repair | None:
    """Set `fields` (a new version) only while the job is still as read (its version) and
    matches `guard`; the job as it is now, or None when it changed meanwhile."""
    doc = await _repairs().find_one_and_update(
        {"_id": repair.id, "version": repair.version, **guard},
        {"$set": fields, "$inc": {"version": 1}},
        return_document=ReturnDocument.AFTER, session=session,
    )
    return Repair.model_validate(doc) if doc else None


async def set_quote(
    session: Session, repair: Repair, quote: Quote, statuses: frozenset[RepairStatus],
    now: datetime,
) -> Repair | None:
    """Replace a proposed (or absent) quote while the job is in one of `statuses`, unpaid."""
    guard = {"status": {"$in": [s.value for s in statuses]}, "payment_id": None,
             "$or": [{"quote": None}, {"quote.status": "proposed"}]}
    return await _update_as_read(session, repair, guard,
                                 {"quote": quote.model_dump(), "updated_at": now})


async def accept_quote(session: Session, repair: Repair, now: datetime) -> Repair | None:
    """proposed → accepted, for the quote as it was read (its proposal time)."""
    assert repair.quote is not None
    guard = {"quote.status": "proposed", "quote.proposed_at": repair.quote.proposed_at,
             "status": {"$ne": RepairStatus.CANCELLED.value}}
    return await _update_as_read(session, repair, guard,
                                 {"quote.status": "accepted", "quote.accepted_at": now,
                                  "updated_at": now})


async def set_payment(session: Session, repair_id: str, payment_id: str, now: datetime) -> bool:
    """Record the captured payment of the accepted quote once (a replay of it is a no-op)."""
    result = await _repairs().update_one(
        {"_id": repair_id, "quote.status": "accepted",
         "status": {"$ne": RepairStatus.CANCELLED.value},
         "$or": [{"payment_id": None}, {"payment_id": payment_id}]},
        {"$set": {"payment_id": payment_id, "updated_at": now}, "$inc": {"version": 1}},
        session=session,
    )
    return result.matched_count == 1


async def link_order(
    session: Session, repair_id: str, order_id: str, technician_user_id: str,
    statuses: frozenset[RepairStatus], now: datetime,
) -> bool:
    """Add a parts order to the job's `order_ids`, while `technician_user_id` is still its
    technician and the job in one of `statuses`."""
    result = await _repairs().update_one(
        {"_id": repair_id, "technician_user_id": technician_user_id,
         "status": {"$in": [s.value for s in statuses]}},
        {"$addToSet": {"order_ids": order_id}, "$set": {"updated_at": now},
         "$inc": {"version": 1}},
        session=session,
    )
    return result.matched_count == 1


async def count_unassigned(actor: Actor) -> int:
    """Jobs waiting for a technician (unassigned hardware, software awaiting assignment), on
    the `status` index."""
    if not sees_all(actor, Permission.GOVERNANCE_READ):
        return 0
    waiting = [RepairStatus.UNASSIGNED.value, RepairStatus.AWAITING_ASSIGNMENT.value]
    return await _repairs().count_documents({"status": {"$in": waiting}})
