"""Manual holds finance places on held escrow, and the freeze a dispute puts on it."""

from app.core import clock
from app.core.database import Session, transaction
from app.core.permissions import SYSTEM_ACTOR, Actor
from app.payments import repository
from app.payments.changes import change_payment
from app.payments.exceptions import IllegalEscrowTransition
from app.payments.models import Payment
from app.payments.transitions import check_escrow


def _unchanged(payment: Payment) -> dict[str, object]:
    return {"escrow_status": payment.escrow_status.value, "version": payment.version}


def _changed_meanwhile() -> IllegalEscrowTransition:
    return IllegalEscrowTransition("The escrow changed meanwhile; reload and retry")


async def set_hold(actor: Actor, payment_id: str, hold: bool, reason: str) -> Payment:
    payment = await repository.get_existing(payment_id)
    target = check_escrow("hold" if hold else "unhold", payment)
    hold_doc = {"reason": reason, "by": actor.id, "at": clock.utcnow()} if hold else None

    async def work(session: Session) -> None:
        await change_payment(
            session, actor, payment, guard=_unchanged(payment),
            fields={"escrow_status": target.value, "hold": hold_doc},
            conflict=_changed_meanwhile(),
            action=f"payment.{'hold_placed' if hold else 'hold_lifted'}", reason=reason,
            changes={"escrowStatus": {"from": payment.escrow_status, "to": target}},
        )

    await transaction(work)
    return await repository.get_existing(payment_id)


async def freeze_for_dispute(session: Session, payment_id: str) -> None:
    """In the transaction that opens a dispute (which audits it): freeze the escrow."""
    payment = await repository.get_existing(payment_id)
    target = check_escrow("dispute", payment)
    await change_payment(session, SYSTEM_ACTOR, payment, guard=_unchanged(payment),
                         fields={"escrow_status": target.value}, conflict=_changed_meanwhile())
