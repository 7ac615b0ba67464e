"""Releasing held escrow to the dealer: after delivery, by override, or as a dispute decided."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app.core import clock
from app.core.config import settings
from app.core.database import Session, transaction
from app.core.errors import ReasonRequired
from app.core.permissions import SYSTEM_ACTOR, Actor, Permission
from app.notifications import notices
from app.payments import commission, repository
from app.payments.changes import change_payment
from app.payments.exceptions import (
    EscrowPermissionDenied,
    IllegalEscrowTransition,
    ReleaseNeedsAnotherApprover,
)
from app.payments.ledger import accounts
from app.payments.ledger import service as ledger
from app.payments.models import CommissionBreakdown, EscrowStatus, PayableType, Payment
from app.payments.payables import payable_of, payee_user_id
from app.payments.transitions import check_escrow, held_amount


@dataclass(frozen=True)
class ReleaseOutcome:
    payment: Payment
    executed: bool


@dataclass(frozen=True)
class DisputeReleased:
    """A disputed escrow released as its dispute's resolution decided (for release hooks)."""

    payment_id: str
    payable_type: PayableType
    payable_id: str
    amount: int
    split: CommissionBreakdown


ReleaseHook = Callable[[Session, Actor, DisputeReleased], Awaitable[None]]
_release_hooks: list[ReleaseHook] = []


def register_release_hook(hook: ReleaseHook) -> None:
    """Run `hook(session, actor, released)` in the transaction that releases a disputed
    escrow (the disputes domain completes the dispute with it)."""
    if hook not in _release_hooks:
        _release_hooks.append(hook)


async def release(
    actor: Actor,
    payment_id: str,
    *,
    override: bool = False,
    reason: str | None = None,
    dispute_id: str | None = None,
) -> ReleaseOutcome:
    """Pay the dealer's share into its payable balance and the platform its commission.

    Needs the order delivered (an ops_lead override may release earlier, with a reason), and
    above the approval threshold a second finance admin's approval; the auto-release job
    (the system) is never that second approver. A dispute's resolution (`dispute_id`)
    releases a disputed escrow as the resolving admin decided: before delivery that is an
    override, and above the threshold the decision is the first approval, which a finance
    admin's release of the disputed escrow completes.
    """
    _check_release_permission(actor, override, reason, dispute_id is not None)
    payment = await repository.get_existing(payment_id)
    approval = payment.release_approval
    # A finance admin approving what a dispute's resolution decided (the second approval).
    approving = (dispute_id is None and not override and approval is not None
                 and approval.dispute_id is not None
                 and payment.escrow_status is EscrowStatus.DISPUTED)
    for_dispute = dispute_id is not None or approving
    action = "resolve_release" if for_dispute else "release"
    check_escrow(action, payment)
    if held_amount(payment) <= 0:
        raise IllegalEscrowTransition("Nothing is left in escrow to release")
    if payment.refunds_in_flight:
        raise IllegalEscrowTransition(
            "A refund of this payment is still pending at the gateway; release after it settles",
            {"refundsInFlight": payment.refunds_in_flight},
        )
    payable = payable_of(payment.payable_type)
    fulfilment = await payable.fulfilment(payment.payable_id)
    if not for_dispute:
        if override and fulfilment.delivered:
            raise IllegalEscrowTransition("Delivered orders need no override; release normally")
        if not override and not fulfilment.delivered:
            raise IllegalEscrowTransition(
                "Escrow is released only after delivery",
                {"escrowStatus": payment.escrow_status.value, "delivered": False},
            )
    if approving:
        assert approval is not None
        if approval.requested_by == actor.id:
            raise ReleaseNeedsAnotherApprover
        reason = approval.reason
    elif await _needs_second_approval(actor, payment, dispute_id, reason):
        return ReleaseOutcome(await repository.get_existing(payment_id), executed=False)
    # A dispute decided before delivery releases early: an ops_lead override, recorded as such.
    override = override or (for_dispute and not fulfilment.delivered)
    await transaction(lambda session: _execute_release(
        session, actor, payment, action, fulfilment.delivered, override, reason))
    return ReleaseOutcome(await repository.get_existing(payment_id), executed=True)


def _check_release_permission(
    actor: Actor, override: bool, reason: str | None, resolution: bool = False
) -> None:
    if resolution:
        # The disputes domain decided; whoever may resolve disputes may release the result.
        if actor is not SYSTEM_ACTOR and not actor.can(Permission.DISPUTES_MANAGE):
            raise EscrowPermissionDenied("Only dispute resolvers may release a disputed escrow")
        return
    if override:
        if not actor.can(Permission.ESCROW_OVERRIDE):
            raise EscrowPermissionDenied("Only the ops leader may release early as an override")
        if not reason:
            raise ReasonRequired("An override must give a reason")
    elif actor is not SYSTEM_ACTOR and not actor.can(Permission.ESCROW_RELEASE):
        raise EscrowPermissionDenied


async def _needs_second_approval(
    actor: Actor, payment: Payment, dispute_id: str | None, reason: str | None
) -> bool:
    """Record the first approval of a high-value release; True while the second is missing.

    The system never approves: above the threshold the auto-release job waits for people."""
    if held_amount(payment) <= settings().escrow.release_approval_threshold:
        return False
    if actor is SYSTEM_ACTOR:
        return True
    approval = payment.release_approval
    if dispute_id is not None:
        if approval is not None and approval.dispute_id == dispute_id:
            return True  # recorded by an earlier attempt of this resolution
        await _record_first_approval(actor, payment, dispute_id, reason)
        return True
    if approval is not None and approval.dispute_id is None:
        if approval.requested_by == actor.id:
            raise ReleaseNeedsAnotherApprover
        return False
    await _record_first_approval(actor, payment, None, None)
    return True


async def _record_first_approval(
    actor: Actor, payment: Payment, dispute_id: str | None, reason: str | None
) -> None:
    approval = payment.release_approval
    unchanged: dict[str, object] = (
        {"release_approval": None} if approval is None else
        {"release_approval.requested_by": approval.requested_by,
         "release_approval.dispute_id": approval.dispute_id}
    )
    fields: dict[str, object] = {"requested_by": actor.id, "requested_at": clock.utcnow()}
    if dispute_id is not None:
        fields |= {"dispute_id": dispute_id, "reason": reason}
    await transaction(lambda session: change_payment(
        session, actor, payment,
        guard={**unchanged, "escrow_status": payment.escrow_status.value},
        fields={"release_approval": fields},
        conflict=IllegalEscrowTransition("The payment changed meanwhile; retry"),
        action="payment.release_approved_first", reason=reason,
        metadata={"amount": held_amount(payment), "disputeId": dispute_id},
    ))


async def _execute_release(
    session: Session, actor: Actor, payment: Payment, action: str, delivered: bool,
    override: bool, reason: str | None,
) -> None:
    split = commission.breakdown(
        payment.subtotal, payment.delivery_charge, payment.service_fee,
        payment.commission_breakdown.rate_bps, refunded=payment.refunded_from_escrow,
    )
    await change_payment(
        session, actor, payment,
        guard={"escrow_status": payment.escrow_status.value, "version": payment.version,
               "refunds_in_flight": {"$in": [0, None]}},
        fields={"escrow_status": EscrowStatus.RELEASED.value,
                "amount_released": held_amount(payment), "released_at": clock.utcnow(),
                "commission_breakdown": split.model_dump()},
        conflict=IllegalEscrowTransition("The escrow changed meanwhile; reload and retry"),
        action="payment.released", reason=reason, override=override,
        changes={"escrowStatus": {"from": payment.escrow_status, "to": EscrowStatus.RELEASED}},
        metadata={"via": action, **split.model_dump(),
                  "firstApprover": payment.release_approval.requested_by
                  if payment.release_approval else None},
    )
    transfers = [
        ledger.Transfer(accounts.escrow(payment.id), accounts.payable(payment.payee_id),
                        split.dealer_share),
        ledger.Transfer(accounts.escrow(payment.id), accounts.PLATFORM_REVENUE,
                        split.platform_share),
    ]
    await ledger.post(
        session, key=f"release:{payment.id}", kind="release", actor=actor,
        transfers=[t for t in transfers if t.amount > 0], payment_id=payment.id,
        recipient_id=payment.payee_id, metadata=split.model_dump(),
    )
    if delivered:
        await payable_of(payment.payable_type).mark_completed(session, payment.payable_id)
    if payee := await payee_user_id(payment.payee_id):
        await notices.payment_released(
            session, payment_id=payment.id, user_id=payee, amount=split.dealer_share,
            payable_type=payment.payable_type.value, payable_id=payment.payable_id)
    if action == "resolve_release":
        released = DisputeReleased(payment.id, payment.payable_type, payment.payable_id,
                                   held_amount(payment), split)
        for hook in _release_hooks:
            await hook(session, actor, released)
