"""Every query on payments, refunds and applied gateway events.

Reads that return what a user is shown take the `Actor` and return only what it may see
(the payer, the payee dealer, admins holding `PAYMENTS_READ_ALL`); the others serve the
payments domain's own use cases and jobs (a system scope).
"""

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from app.core import clock
from app.core.database import Session
from app.core.pagination import PageRequest, paginate
from app.core.permissions import Actor, Permission
from app.core.policy import OwnerFields, Owners, may_see, sees_all, visibility_filter
from app.payments.exceptions import PaymentNotFound
from app.payments.models import (
    EscrowStatus,
    GatewayEvent,
    PayableType,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from app.payments.transitions import HOLDING, OPEN_STATUSES

# The payee is a dealer (dlr_…) or a technician (tch_…): the prefixes never collide.
PAYMENT_OWNERS = OwnerFields(buyer="payer_id", dealer="payee_id", technician="payee_id")


def _payments() -> AsyncCollection:
    return Payment.get_pymongo_collection()


def _refunds() -> AsyncCollection:
    return Refund.get_pymongo_collection()


# --- payments: reads -----------------------------------------------------------------------


async def get(payment_id: str, session: Session | None = None) -> Payment | None:
    return await Payment.get(payment_id, session=session)


async def get_existing(payment_id: str, session: Session | None = None) -> Payment:
    """The payment (system scope), or 404."""
    payment = await Payment.get(payment_id, session=session)
    if payment is None:
        raise PaymentNotFound
    return payment


def owners_of(payment: Payment) -> Owners:
    return Owners(buyer_id=payment.payer_id, dealer_id=payment.payee_id,
                  technician_id=payment.payee_id)


async def get_visible(actor: Actor, payment_id: str) -> Payment | None:
    """The payment, if `actor` may see it."""
    payment = await Payment.get(payment_id)
    if payment is None or not may_see(actor, owners_of(payment), Permission.PAYMENTS_READ_ALL):
        return None
    return payment


async def list_visible(
    actor: Actor, page: PageRequest, filters: dict[str, Any]
) -> tuple[list[Payment], str | None]:
    query = {key: value for key, value in filters.items() if value is not None}
    scope = visibility_filter(actor, PAYMENT_OWNERS, Permission.PAYMENTS_READ_ALL)
    if scope:
        query = {"$and": [query, scope]}
    docs, next_cursor = await paginate(_payments(), query, page)
    return [Payment.model_validate(doc) for doc in docs], next_cursor


async def open_payment_for(payable_type: PayableType, payable_id: str) -> Payment | None:
    return await Payment.find_one(
        {"payable_type": payable_type.value, "payable_id": payable_id,
         "status": {"$in": [s.value for s in OPEN_STATUSES]}}
    )


async def find_by_gateway_order(gateway_order_id: str) -> Payment | None:
    return await Payment.find_one(Payment.gateway_order_id == gateway_order_id)


async def held_ids_captured_before(before: datetime, limit: int) -> list[str]:
    cursor = _payments().find(
        {"escrow_status": EscrowStatus.HELD.value, "captured_at": {"$lte": before}}, {"_id": 1},
    ).limit(limit)
    return [doc["_id"] async for doc in cursor]


async def created_before(before: datetime, limit: int) -> list[Payment]:
    return await Payment.find(
        {"status": PaymentStatus.CREATED.value, "created_at": {"$lte": before}}
    ).sort("created_at").limit(limit).to_list()


def _unchecked_since(checked_before: datetime) -> dict[str, Any]:
    return {"$or": [{"gateway_checked_at": None},
                    {"gateway_checked_at": {"$lte": checked_before}}]}


async def failed_to_recheck(
    created_since: datetime, checked_before: datetime, limit: int
) -> list[Payment]:
    """Failed payments created since `created_since` and not asked about at the gateway since
    `checked_before`, least recently asked first."""
    return await Payment.find(
        {"status": PaymentStatus.FAILED.value, "created_at": {"$gte": created_since},
         **_unchecked_since(checked_before)}
    ).sort("gateway_checked_at", "created_at").limit(limit).to_list()


async def mark_payment_checked(payment_id: str, at: datetime) -> None:
    """Remember when the gateway was last asked about the payment (no state changes)."""
    await _payments().update_one({"_id": payment_id}, {"$set": {"gateway_checked_at": at}})


async def holding_captured_before(before: datetime, limit: int) -> list[Payment]:
    return await Payment.find(
        {"escrow_status": {"$in": [s.value for s in HOLDING]}, "captured_at": {"$lte": before}}
    ).limit(limit).to_list()


async def count_by_status() -> dict[str, int]:
    """Payments in each status: one indexed count per status."""
    return {status.value: await _payments().count_documents({"status": status.value})
            for status in PaymentStatus}


async def escrow_expectations() -> dict[str, int]:
    """Payment id → what its escrow account should hold, for the ledger verifier."""
    expected: dict[str, int] = {}
    cursor = _payments().find(
        {"amount_captured": {"$gt": 0}},
        {"amount_captured": 1, "amount_released": 1, "refunded_from_escrow": 1},
    )
    async for doc in cursor:
        expected[doc["_id"]] = (
            doc["amount_captured"] - doc["amount_released"] - doc["refunded_from_escrow"]
        )
    return expected


async def captured_payees() -> dict[str, str]:
    """Payment id → its payee (dealer dlr_… or technician tch_…), for the ledger verifier."""
    cursor = _payments().find({"amount_captured": {"$gt": 0}}, {"payee_id": 1})
    return {doc["_id"]: doc["payee_id"] async for doc in cursor}


# --- payments: writes ----------------------------------------------------------------------


async def insert(session: Session, payment: Payment) -> None:
    await payment.insert(session=session)


async def update_guarded(
    session: Session | None, payment_id: str, guard: dict[str, Any], fields: dict[str, Any],
    unset: tuple[str, ...] = (),
) -> bool:
    """Set `fields` (and a new version) only while the payment still matches `guard`."""
    update: dict[str, Any] = {"$set": {"updated_at": clock.utcnow(), **fields},
                              "$inc": {"version": 1}}
    if unset:
        update["$unset"] = dict.fromkeys(unset, "")
    result = await _payments().update_one({"_id": payment_id, **guard}, update, session=session)
    return result.modified_count == 1


async def set_fields(session: Session, payment_id: str, fields: dict[str, Any]) -> None:
    """Statuses that follow from amounts already changed in the same transaction."""
    await _payments().update_one({"_id": payment_id}, {"$set": fields}, session=session)


async def take_refund(
    session: Session, payment: Payment, amount: int, from_escrow: bool
) -> dict[str, Any] | None:
    """Count a refund against the payment unless that would refund more than was captured."""
    return await _payments().find_one_and_update(
        {"_id": payment.id,
         "amount_refunded": {"$lte": payment.amount_captured - amount},
         "escrow_status": payment.escrow_status.value},
        {"$inc": {"amount_refunded": amount,
                  "refunded_from_escrow": amount if from_escrow else 0,
                  "refunds_in_flight": 1, "version": 1},
         "$set": {"updated_at": clock.utcnow()}},
        session=session, return_document=ReturnDocument.AFTER,
    )


async def take_refund_after_release(
    session: Session, payment: Payment, amount: int, platform_part: int
) -> dict[str, Any] | None:
    """Count a refund after release, and the platform's part of it, against the payment as it
    was read (its version), unless that would refund more than was captured."""
    return await _payments().find_one_and_update(
        {"_id": payment.id, "version": payment.version,
         "escrow_status": EscrowStatus.RELEASED.value,
         "amount_refunded": {"$lte": payment.amount_captured - amount}},
        {"$inc": {"amount_refunded": amount, "platform_refunded": platform_part,
                  "refunds_in_flight": 1, "version": 1},
         "$set": {"updated_at": clock.utcnow()}},
        session=session, return_document=ReturnDocument.AFTER,
    )


async def give_back_refund(
    session: Session, payment_id: str, amount: int, from_escrow: bool, platform_part: int = 0
) -> dict[str, Any]:
    """Undo a refund's amounts on the payment (the gateway refused it)."""
    return await _payments().find_one_and_update(
        {"_id": payment_id},
        {"$inc": {"amount_refunded": -amount,
                  "refunded_from_escrow": -amount if from_escrow else 0,
                  "platform_refunded": -platform_part,
                  "refunds_in_flight": -1, "version": 1}},
        session=session, return_document=ReturnDocument.AFTER,
    )


async def refund_landed(payment_id: str, session: Session | None = None) -> int | None:
    """One refund of the payment is no longer in flight; how many still are (None: none was)."""
    updated = await _payments().find_one_and_update(
        {"_id": payment_id, "refunds_in_flight": {"$gt": 0}},
        {"$inc": {"refunds_in_flight": -1}},
        projection={"refunds_in_flight": 1}, session=session,
        return_document=ReturnDocument.AFTER,
    )
    return updated["refunds_in_flight"] if updated else None


# --- refunds -------------------------------------------------------------------------------


async def get_refund(refund_id: str, session: Session | None = None) -> Refund | None:
    return await Refund.get(refund_id, session=session)


async def find_refund_by_gateway_id(gateway_refund_id: str) -> Refund | None:
    return await Refund.find_one(Refund.gateway_refund_id == gateway_refund_id)


async def insert_refund(session: Session, record: Refund) -> None:
    await record.insert(session=session)


async def unsent_refunds(limit: int) -> list[Refund]:
    """Reserved refunds the gateway has not acknowledged yet."""
    return await Refund.find(
        {"status": RefundStatus.PENDING.value, "gateway_refund_id": None}
    ).limit(limit).to_list()


async def in_flight_refund_amounts() -> dict[str, int]:
    """Payment id → paise of its pending refunds booked as in flight, for the ledger verifier."""
    pipeline = [
        {"$match": {"status": RefundStatus.PENDING.value, "in_flight_account": {"$gt": ""}}},
        {"$group": {"_id": "$payment_id", "total": {"$sum": "$amount"}}},
    ]
    cursor = await _refunds().aggregate(pipeline)
    return {row["_id"]: int(row["total"]) for row in await cursor.to_list()}


async def pending_at_gateway_before(
    created_before: datetime, checked_before: datetime, limit: int
) -> list[Refund]:
    """Refunds the gateway acknowledged (it gave an id) that are still pending here, created
    before `created_before` and not asked about since `checked_before`; least recently asked
    first."""
    return await Refund.find(
        {"status": RefundStatus.PENDING.value, "created_at": {"$lte": created_before},
         "gateway_refund_id": {"$gt": ""}, **_unchecked_since(checked_before)}
    ).sort("gateway_checked_at", "created_at").limit(limit).to_list()


async def mark_refund_checked(refund_id: str, at: datetime) -> None:
    """Remember when the gateway was last asked about the refund (no state changes)."""
    await _refunds().update_one({"_id": refund_id}, {"$set": {"gateway_checked_at": at}})


async def update_pending_refund(
    refund_id: str, fields: dict[str, Any], session: Session | None = None
) -> bool:
    """Change a refund only while it is pending; True when it changed."""
    result = await _refunds().update_one(
        {"_id": refund_id, "status": RefundStatus.PENDING.value},
        {"$set": {**fields, "updated_at": clock.utcnow()}}, session=session,
    )
    return result.modified_count == 1


# --- gateway events ------------------------------------------------------------------------


async def event_applied(event_id: str) -> bool:
    return await GatewayEvent.get(event_id) is not None


async def record_event(event_id: str, event: str, outcome: str) -> bool:
    """Remember an applied webhook event; False when another delivery recorded it first."""
    try:
        await GatewayEvent(id=event_id, event=event, outcome=outcome).insert()
    except DuplicateKeyError:
        return False
    return True


async def escrow_held(actor: Actor) -> tuple[int, int]:
    """(payments whose escrow holds money, the paise held), one aggregation on the escrow
    index."""
    if not sees_all(actor, Permission.GOVERNANCE_READ):
        return 0, 0
    held = {"$subtract": ["$amount_captured",
                          {"$add": ["$refunded_from_escrow", "$amount_released"]}]}
    pipeline: list[dict[str, Any]] = [
        {"$match": {"escrow_status": {"$in": [status.value for status in HOLDING]}}},
        {"$group": {"_id": None, "count": {"$sum": 1}, "amount": {"$sum": held}}},
    ]
    rows = await (await _payments().aggregate(pipeline)).to_list()
    return (rows[0]["count"], rows[0]["amount"]) if rows else (0, 0)


async def count_created_before(actor: Actor, before: datetime) -> int:
    """Payments still `created` (never captured nor failed) since before `before`."""
    if not sees_all(actor, Permission.GOVERNANCE_READ):
        return 0
    return await _payments().count_documents(
        {"status": PaymentStatus.CREATED.value, "created_at": {"$lte": before}})


async def failures_since(payer_id: str, since: datetime) -> int:
    """The payer's payments that failed, created since `since` (`by_payer_status`)."""
    return await _payments().count_documents(
        {"payer_id": payer_id, "status": PaymentStatus.FAILED.value, "created_at": {"$gte": since}})


PAID_STATUSES = (PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)


async def paid_and_refunded(payer_id: str) -> tuple[int, int]:
    """The payer's captured payments, and how many of them were refunded (in part or full):
    one aggregation over `by_payer_status`."""
    pipeline: list[dict[str, Any]] = [
        {"$match": {"payer_id": payer_id, "status": {"$in": [s.value for s in PAID_STATUSES]}}},
        {"$group": {"_id": "$status", "payments": {"$sum": 1}}},
    ]
    counts = {doc["_id"]: doc["payments"]
              for doc in await (await _payments().aggregate(pipeline)).to_list()}
    refunded = (counts.get(PaymentStatus.PARTIALLY_REFUNDED.value, 0)
                + counts.get(PaymentStatus.REFUNDED.value, 0))
    return sum(counts.values()), refunded


async def add_risk_flags(session: Session, payment_id: str, codes: list[str]) -> None:
    await _payments().update_one({"_id": payment_id},
                                 {"$addToSet": {"risk_flags": {"$each": codes}}}, session=session)


async def refunds_of(payment_id: str) -> list[Refund]:
    """A payment's refunds, oldest first (the `by_payment` index)."""
    cursor = _refunds().find({"payment_id": payment_id}).sort("created_at", 1)
    return [Refund.model_validate(doc) async for doc in cursor]
