"""The technician's payment terminal: quotes, their acceptance by the customer, and what the
payments and orders domains ask of a job (its terms for payment, being paid, its parts).

Repairs never import payments (payments → repairs): payments calls `payment_check`,
`get_repair` and `mark_paid` here through its repair payable; orders reach `check_parts_buyer`
and `link_parts_order` through the parts hook registered at start-up."""

from app.audit import service as audit
from app.core import clock
from app.core.config import settings
from app.core.database import Session, transaction
from app.core.errors import RuleViolation
from app.core.permissions import Actor
from app.orders import service as orders_service
from app.orders.exceptions import OrderNotFound
from app.orders.models import OrderStatus
from app.repairs import repository
from app.repairs.exceptions import (
    IllegalQuoteTransition,
    QuoteNotAccepted,
    RepairActionForbidden,
    RepairNotFound,
)
from app.repairs.models import Quote, QuoteLine, QuoteLineKind, QuoteStatus, Repair, RepairStatus
from app.repairs.schemas import QuoteIn

# Between acceptance and completion the technician may (re)quote.
QUOTABLE = frozenset({RepairStatus.ACCEPTED, RepairStatus.EN_ROUTE, RepairStatus.ON_SITE,
                      RepairStatus.IN_PROGRESS})
# A parts order counts on a quote once paid (and not cancelled or expired).
PAID_ORDER_STATUSES = frozenset({OrderStatus.PAID, OrderStatus.PACKED, OrderStatus.SHIPPED,
                                 OrderStatus.DELIVERED, OrderStatus.COMPLETED})


def _invalid(field: str, message: str) -> RuleViolation:
    return RuleViolation(message, {"errors": [{"field": field, "message": message}]})


async def _visible(actor: Actor, repair_id: str) -> Repair:
    repair = await repository.get_visible(actor, repair_id)
    if repair is None:
        raise RepairNotFound
    return repair


async def get_repair(repair_id: str) -> Repair:
    """The job by id (system scope), or 404."""
    repair = await repository.get(repair_id)
    if repair is None:
        raise RepairNotFound
    return repair


async def get_visible(actor: Actor, repair_id: str) -> Repair:
    """The job for its customer, its technician and admins; 404 for anyone else."""
    return await _visible(actor, repair_id)


# --- quotes --------------------------------------------------------------------------------


async def propose_quote(actor: Actor, repair_id: str, data: QuoteIn) -> Repair:
    """The assigned technician quotes (between acceptance and completion); a new quote
    replaces one the customer has not accepted yet."""
    repair = await _visible(actor, repair_id)
    if repair.technician_id is None or actor.technician_id != repair.technician_id:
        raise RepairActionForbidden("Only the job's assigned technician quotes it")
    if repair.payment_id is not None or (
        repair.quote is not None and repair.quote.status is QuoteStatus.ACCEPTED
    ):
        raise IllegalQuoteTransition("The quote was accepted already; it can no longer change",
                                     {"quoteStatus": QuoteStatus.ACCEPTED.value})
    if repair.status not in QUOTABLE:
        raise IllegalQuoteTransition(
            f"A {repair.status.value} job cannot be quoted: quotes are given between "
            "acceptance and completion", {"status": repair.status.value})
    total = sum(line.amount for line in data.lines)
    limit = settings().repairs.quote_max_total
    if total > limit:
        raise _invalid("body.lines", f"the quote's total {total} paise is above the "
                                     f"{limit} paise a quote may come to")
    await _check_part_orders(repair, data)
    now = clock.utcnow()
    quote = Quote(lines=[QuoteLine(**line.model_dump()) for line in data.lines], total=total,
                  status=QuoteStatus.PROPOSED, proposed_at=now)
    replaced = repair.quote

    async def work(session: Session) -> Repair:
        updated = await repository.set_quote(session, repair, quote, QUOTABLE, now)
        if updated is None:
            raise IllegalQuoteTransition("The job changed meanwhile; reload it and quote again")
        await audit.record(
            session, actor=actor, action="repair.quote_proposed", subject_type="repair",
            subject_id=repair.id,
            changes={"quoteTotal": {"from": replaced.total if replaced else None, "to": total},
                     "quoteStatus": {"from": replaced.status if replaced else None,
                                     "to": QuoteStatus.PROPOSED}},
            metadata={"lines": len(quote.lines), "replaced": replaced is not None},
        )
        return updated

    return await transaction(work)


async def _check_part_orders(repair: Repair, data: QuoteIn) -> None:
    """A line's orderId: a part line's, naming a paid order its technician bought for this job."""
    seen: set[str] = set()
    for index, line in enumerate(data.lines):
        if line.order_id is None:
            continue
        field = f"body.lines.{index}.orderId"
        if line.kind is not QuoteLineKind.PART:
            raise _invalid(field, "only part lines name a parts order")
        if line.order_id in seen:
            raise _invalid(field, "the order is on another line of this quote already")
        seen.add(line.order_id)
        try:
            order = await orders_service.get_order(line.order_id)
        except OrderNotFound:
            order = None
        if (order is None or line.order_id not in repair.order_ids
                or order.buyer_id != repair.technician_user_id
                or getattr(order, "repair_id", None) != repair.id):
            raise _invalid(field, "not a parts order the technician bought for this job")
        if order.status not in PAID_ORDER_STATUSES:
            raise _invalid(field, f"the parts order is {order.status.value}, not paid")


async def accept_quote(actor: Actor, repair_id: str) -> Repair:
    """The customer accepts the proposed quote, which fixes the amount to pay."""
    repair = await _visible(actor, repair_id)
    if actor.id != repair.customer_id:
        raise RepairActionForbidden("Only the job's customer accepts its quote")
    if repair.status is RepairStatus.CANCELLED or repair.quote is None or (
        repair.quote.status is not QuoteStatus.PROPOSED
    ):
        raise IllegalQuoteTransition(
            "There is no proposed quote to accept",
            {"status": repair.status.value,
             "quoteStatus": repair.quote.status.value if repair.quote else None})
    now = clock.utcnow()

    async def work(session: Session) -> Repair:
        updated = await repository.accept_quote(session, repair, now)
        if updated is None:
            raise IllegalQuoteTransition("The quote changed meanwhile; reload it")
        assert repair.quote is not None
        await audit.record(
            session, actor=actor, action="repair.quote_accepted", subject_type="repair",
            subject_id=repair.id,
            changes={"quoteStatus": {"from": QuoteStatus.PROPOSED, "to": QuoteStatus.ACCEPTED}},
            metadata={"total": repair.quote.total},
        )
        return updated

    return await transaction(work)


# --- what payments ask ---------------------------------------------------------------------


async def payment_check(actor: Actor, repair_id: str) -> Repair:
    """The job its customer may pay now: its quote accepted, not paid, not cancelled."""
    repair = await _visible(actor, repair_id)
    if actor.id != repair.customer_id:
        raise RepairActionForbidden("Only the job's customer pays for it")
    if repair.status is RepairStatus.CANCELLED:
        raise IllegalQuoteTransition("A cancelled job cannot be paid",
                                     {"status": repair.status.value})
    if repair.quote is None or repair.quote.status is not QuoteStatus.ACCEPTED:
        raise QuoteNotAccepted(data={"ruleFlags": ["QUOTE_NOT_ACCEPTED"],
                                     "quoteStatus": repair.quote.status.value
                                     if repair.quote else None})
    if repair.technician_id is None:
        raise IllegalQuoteTransition("The job has no technician to pay")
    return repair


async def mark_paid(session: Session, repair_id: str, payment_id: str) -> None:
    """In the capture's transaction: the job's accepted quote is paid by `payment_id` (a
    replay is a no-op); IllegalTransition when the job can no longer be paid."""
    if not await repository.set_payment(session, repair_id, payment_id, clock.utcnow()):
        raise IllegalQuoteTransition("The job can no longer be paid")


# --- parts orders bought for a job ---------------------------------------------------------


async def check_parts_buyer(actor: Actor, repair_id: str) -> None:
    """An order may name a job only when its buyer is the job's assigned technician, while
    the job is between acceptance and completion (422 otherwise)."""
    repair = await repository.get(repair_id)
    if (repair is None or repair.technician_user_id is None
            or repair.technician_user_id != actor.id or repair.status not in QUOTABLE):
        raise _invalid("body.repairId",
                       "not a job you are the assigned technician of, before its completion")


async def link_parts_order(session: Session, actor: Actor, repair_id: str, order_id: str) -> None:
    """In the order's transaction: the job lists the order among its parts orders."""
    if not await repository.link_order(session, repair_id, order_id, actor.id, QUOTABLE,
                                             clock.utcnow()):
        raise _invalid("body.repairId",
                       "not a job you are the assigned technician of, before its completion")
    await audit.record(
        session, actor=actor, action="repair.parts_order_linked", subject_type="repair",
        subject_id=repair_id, metadata={"orderId": order_id},
    )
