"""Every query on the repairs collections."""

# === money (the payment terminal): quotes, payment, parts orders ==========================
# Appended by the money helper; self-contained (its own imports), so it merges with the
# repairs helper's queries above. Reads that return a job to a caller take the `Actor` and
# use the viewer policy: the job's customer, its technician (tch_…), admins reading all.

from datetime import datetime as _datetime
from typing import Any as _Any

from app.core.database import Session as _Session
from app.core.permissions import Actor as _Actor
from app.core.permissions import Permission as _Permission
from app.core.policy import Owners as _Owners
from app.core.policy import may_see as _may_see
from app.repairs.models import Quote as _Quote
from app.repairs.models import Repair as _Repair
from app.repairs.models import RepairStatus as _RepairStatus


def money_owners(repair: _Repair) -> _Owners:
    return _Owners(buyer_id=repair.customer_id, technician_id=repair.technician_id)


async def money_get(repair_id: str, session: _Session | None = None) -> _Repair | None:
    """The job by id (system scope)."""
    return await _Repair.get(repair_id, session=session)


async def money_get_visible(actor: _Actor, repair_id: str) -> _Repair | None:
    """The job, if `actor` is its customer, its technician or an admin reading all."""
    repair = await _Repair.get(repair_id)
    if repair is None or not _may_see(actor, money_owners(repair), _Permission.REPAIRS_READ_ALL):
        return None
    return repair


async def _money_update(
    session: _Session | None, repair: _Repair, guard: dict[str, _Any], fields: dict[str, _Any],
    push: dict[str, _Any] | None = None,
) -> _Repair | None:
    """Set `fields` (a new version) only while the job is still as read (its version) and
    matches `guard`; the job as it is now, or None when it changed meanwhile."""
    update: dict[str, _Any] = {"$set": fields, "$inc": {"version": 1}}
    if push:
        update["$addToSet"] = push
    result = await _Repair.get_pymongo_collection().update_one(
        {"_id": repair.id, "version": repair.version, **guard}, update, session=session
    )
    if result.modified_count != 1:
        return None
    return await _Repair.get(repair.id, session=session)


async def money_set_quote(
    session: _Session, repair: _Repair, quote: _Quote, statuses: frozenset[_RepairStatus],
    now: _datetime,
) -> _Repair | None:
    """Replace a proposed (or absent) quote while the job is in one of `statuses`, unpaid."""
    guard = {"status": {"$in": [s.value for s in statuses]}, "payment_id": None,
             "$or": [{"quote": None}, {"quote.status": "proposed"}]}
    return await _money_update(session, repair, guard,
                               {"quote": quote.model_dump(), "updated_at": now})


async def money_accept_quote(session: _Session, repair: _Repair, now: _datetime) -> _Repair | None:
    """proposed → accepted, for the quote as it was read (its proposal time)."""
    assert repair.quote is not None
    guard = {"quote.status": "proposed", "quote.proposed_at": repair.quote.proposed_at,
             "status": {"$ne": _RepairStatus.CANCELLED.value}}
    return await _money_update(session, repair, guard,
                               {"quote.status": "accepted", "quote.accepted_at": now,
                                "updated_at": now})


async def money_set_payment(
    session: _Session, repair_id: str, payment_id: str, now: _datetime
) -> bool:
    """Record the captured payment of the accepted quote once (a replay of it is a no-op)."""
    result = await _Repair.get_pymongo_collection().update_one(
        {"_id": repair_id, "quote.status": "accepted",
         "status": {"$ne": _RepairStatus.CANCELLED.value},
         "$or": [{"payment_id": None}, {"payment_id": payment_id}]},
        {"$set": {"payment_id": payment_id, "updated_at": now}, "$inc": {"version": 1}},
        session=session,
    )
    return result.matched_count == 1


async def money_link_order(
    session: _Session, repair_id: str, order_id: str, technician_user_id: str,
    statuses: frozenset[_RepairStatus], now: _datetime,
) -> bool:
    """Add a parts order to the job's `order_ids`, while `technician_user_id` is still its
    technician and the job in one of `statuses`."""
    result = await _Repair.get_pymongo_collection().update_one(
        {"_id": repair_id, "technician_user_id": technician_user_id,
         "status": {"$in": [s.value for s in statuses]}},
        {"$addToSet": {"order_ids": order_id}, "$set": {"updated_at": now},
         "$inc": {"version": 1}},
        session=session,
    )
    return result.matched_count == 1


# === end of money =========================================================================
