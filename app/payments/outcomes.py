"""What the gateway says became of a refund: processed settles it, failed reverses it."""

from app.alerts import service as alerts
from app.alerts.models import AlertKind
from app.audit import service as audit
from app.core import clock
from app.core.database import Session, transaction
from app.core.permissions import SYSTEM_ACTOR
from app.payments import after_release, repository
from app.payments.gateway.base import GatewayRefund, GatewayRefundStatus
from app.payments.ledger import accounts
from app.payments.ledger import service as ledger
from app.payments.models import EscrowStatus, Refund, RefundStatus
from app.payments.transitions import REFUND_TRANSITIONS, statuses_after_refunds

_PROCESSED = REFUND_TRANSITIONS["settle"][1]
_FAILED = REFUND_TRANSITIONS["reverse"][1]


async def record_gateway_refund(refund_id: str, answer: GatewayRefund) -> None:
    """The gateway's answer to sending a refund: its id is noted in the same transaction as
    the outcome it reports, so a refund is never left known to the gateway but unsettled."""
    if answer.status is GatewayRefundStatus.PROCESSED:
        await _settle(refund_id, answer.id, "gateway answer")
    elif answer.status is GatewayRefundStatus.FAILED:
        await reverse_refund(refund_id, "gateway reported the refund failed",
                             gateway_refund_id=answer.id)
    else:
        await repository.update_pending_refund(refund_id, {"gateway_refund_id": answer.id})


async def apply_refund_outcome(answer: GatewayRefund) -> str:
    """A refund webhook: processed settles it; failed puts the money back where it was."""
    stored = await repository.find_refund_by_gateway_id(answer.id)
    if stored is None and answer.notes.get("refundId"):
        stored = await repository.get_refund(answer.notes["refundId"])
    if stored is None:
        return "unknown_refund"
    if answer.status is GatewayRefundStatus.FAILED:
        return "refund_failed" if await reverse_refund(stored.id, "refund.failed") else "ignored"
    if not await _settle(stored.id, answer.id, "refund.processed webhook"):
        return "ignored"
    return "refund_processed"


async def _settle(refund_id: str, gateway_refund_id: str, via: str) -> bool:
    """pending → processed, one refund fewer in flight on its payment, its money out of the
    payment's refunds in flight for good (the ledger), and the audit entry of all three, in
    one transaction; False when the refund was not pending (settled already)."""

    async def work(session: Session) -> bool:
        if not await repository.update_pending_refund(
            refund_id, {"status": _PROCESSED.value, "gateway_refund_id": gateway_refund_id},
            session=session,
        ):
            return False
        record = await repository.get_refund(refund_id, session=session)
        assert record is not None
        in_flight = await repository.refund_landed(record.payment_id, session=session)
        changes: dict[str, object] = {"refundStatus": {"from": RefundStatus.PENDING.value,
                                                       "to": _PROCESSED.value}}
        if in_flight is not None:
            changes["refundsInFlight"] = {"from": in_flight + 1, "to": in_flight}
        if record.in_flight_account is not None:
            await settle_in_ledger(session, record.id, record.payment_id,
                                   record.in_flight_account, record.amount)
        await audit.record(
            session, actor=SYSTEM_ACTOR, action="payment.refund_processed",
            subject_type="payment", subject_id=record.payment_id, changes=changes,
            metadata={"refundId": refund_id, "gatewayRefundId": gateway_refund_id,
                      "amount": record.amount, "via": via},
        )
        return True

    return await transaction(work)


async def settle_in_ledger(
    session: Session, refund_id: str, payment_id: str, in_flight_account: str, amount: int
) -> None:
    """The refund reached the buyer: its money leaves the payment's refunds in flight."""
    await ledger.post(
        session, key=f"refund-settled:{refund_id}", kind="refund_settled", actor=SYSTEM_ACTOR,
        transfers=[ledger.Transfer(in_flight_account, accounts.REFUNDS, amount)],
        payment_id=payment_id,
    )


async def set_refund_statuses(session: Session, doc: dict[str, object]) -> None:
    """Bring a payment's statuses in line with its refunded amounts (`doc`, as updated)."""
    await repository.set_fields(session, str(doc["_id"]), statuses_after_refunds(doc))


async def reverse_refund(refund_id: str, why: str, gateway_refund_id: str | None = None) -> bool:
    """The gateway refused a refund: put its money back and hold the escrow for finance."""

    async def work(session: Session) -> bool:
        record = await repository.get_refund(refund_id, session=session)
        if record is None:
            return False
        known = {"gateway_refund_id": gateway_refund_id} if gateway_refund_id else {}
        if not await repository.update_pending_refund(
            refund_id, {"status": _FAILED.value, "failure_reason": why, **known},
            session=session,
        ):
            return False
        from_escrow = record.source_account.startswith(accounts.ESCROW_PREFIX)
        updated = await repository.give_back_refund(
            session, record.payment_id, record.amount, from_escrow, record.platform_part
        )
        await set_refund_statuses(session, updated)
        if from_escrow and updated["escrow_status"] in (EscrowStatus.HELD.value,
                                                         EscrowStatus.REFUNDED.value):
            # The refund was decided on (by finance or a dispute); its failure must not let
            # the money drift to the dealer by an automatic release: finance decides again.
            await repository.set_fields(session, record.payment_id, {
                "escrow_status": EscrowStatus.ON_HOLD.value,
                "hold": {"reason": f"Refund {refund_id} failed: {why}",
                         "by": SYSTEM_ACTOR.id, "at": clock.utcnow()},
            })
        await ledger.post(
            session, key=f"refund-reversal:{refund_id}", kind="refund_reversal",
            actor=SYSTEM_ACTOR, payment_id=record.payment_id,
            recipient_id=str(updated["payee_id"]),
            transfers=await _reversal_transfers(session, record, from_escrow), memo=why,
        )
        await audit.record(
            session, actor=SYSTEM_ACTOR, action="payment.refund_failed", subject_type="payment",
            subject_id=record.payment_id, reason=why,
            changes={
                "refundStatus": {"from": RefundStatus.PENDING.value, "to": _FAILED.value},
                "amountRefunded": {"from": updated["amount_refunded"] + record.amount,
                                   "to": updated["amount_refunded"]},
                "refundsInFlight": {"from": updated["refunds_in_flight"] + 1,
                                    "to": updated["refunds_in_flight"]},
            },
            metadata={"refundId": refund_id, "amount": record.amount},
        )
        return True

    reversed_ = await transaction(work)
    if reversed_:
        record = await repository.get_refund(refund_id)
        await alerts.raise_alert(
            AlertKind.REFUND_FAILED, "payment", record.payment_id if record else refund_id,
            f"Refund {refund_id} failed at the gateway ({why}); the money is back on hold",
            {"refundId": refund_id},
        )
    return reversed_



async def _reversal_transfers(
    session: Session, record: Refund, from_escrow: bool
) -> list[ledger.Transfer]:
    if record.in_flight_account is None:  # booked straight to REFUNDS when it was made
        return [ledger.Transfer(accounts.REFUNDS, record.source_account, record.amount)]
    if from_escrow:
        return [ledger.Transfer(record.in_flight_account, record.source_account, record.amount)]
    payment = await repository.get_existing(record.payment_id, session=session)
    return await after_release.give_back_transfers(session, record, payment)
