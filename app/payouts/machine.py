"""The payout state machine's executor: one move of the `transitions` table, with its ledger
step and audit entry, in one transaction, only from the state and version it was read in."""

from typing import Any

from app.audit import service as audit
from app.core import clock
from app.core.database import Session, transaction
from app.core.permissions import SYSTEM_ACTOR, Actor
from app.notifications import notices
from app.payments.ledger import accounts as ledger_accounts
from app.payments.ledger import service as ledger
from app.payouts import payees, repository
from app.payouts.exceptions import IllegalPayoutTransition
from app.payouts.models import Payout, PayoutAction, PayoutStatus, PayoutStatusChange
from app.payouts.transitions import (
    LedgerStep,
    allowed_actions,
    ledger_key,
    ledger_transfer,
    move_for,
)


async def post_money(
    session: Session, payout: Payout, actor: Actor, step: LedgerStep | None
) -> str | None:
    """Post the ledger step of a move for the payout's current attempt; returns its key."""
    if step is None:
        return None
    key = ledger_key(payout.id, step, payout.attempt)
    await ledger.post(
        session, key=key, kind=f"payout_{step.value}",
        transfers=[ledger_transfer(step, payout.recipient_id, payout.amount)],
        actor=actor, recipient_id=payout.recipient_id,
        memo=f"payout {payout.id} attempt {payout.attempt}: {step.value}",
        metadata={"payoutId": payout.id, "attempt": payout.attempt},
    )
    return key


async def recover_receivable(
    session: Session, recipient_id: str, payout_id: str, actor: Actor
) -> tuple[int, int]:
    """Net what the recipient owes (refunds after release its payable could not cover) off
    its payable, as far as the payable goes, before a payout takes any of it: returns
    (recovered, still owed). Read in `session`, so a concurrent mover makes it retry."""
    receivable = ledger_accounts.receivable(recipient_id)
    owed = max(-await ledger.cached_balance(receivable, session), 0)
    if owed == 0:
        return 0, 0
    payable = max(await ledger.cached_balance(ledger_accounts.payable(recipient_id), session), 0)
    recovered = min(owed, payable)
    if recovered == 0:
        return 0, owed
    key = f"receivable-recovery:{payout_id}"
    await ledger.post(
        session, key=key, kind="receivable_recovery",
        transfers=[ledger.Transfer(ledger_accounts.payable(recipient_id), receivable, recovered)],
        actor=actor, recipient_id=recipient_id,
        memo=f"recovered before payout {payout_id}", metadata={"payoutId": payout_id},
    )
    await audit.record(
        session, actor=actor, action="payout.receivable_recovered",
        subject_type=payees.subject_type(recipient_id),
        subject_id=recipient_id,
        changes={"receivable": {"from": owed, "to": owed - recovered}},
        metadata={"payoutId": payout_id, "recovered": recovered, "ledgerKey": key},
    )
    return recovered, owed - recovered


def audit_metadata(payout: Payout, ledger_key_: str | None) -> dict[str, Any]:
    return {"amount": payout.amount, "recipientId": payout.recipient_id,
            "attempt": payout.attempt, "accountId": payout.account_id,
            "accountNumberMasked": payout.account_number_masked,
            "providerTransferId": payout.provider_transfer_id,
            "providerStatus": payout.provider_status, "ledgerKey": ledger_key_,
            "source": payout.source.value}


async def apply(
    session: Session,
    payout: Payout,
    action: PayoutAction,
    actor: Actor,
    *,
    reason: str | None = None,
    changes: dict[str, Any] | None = None,
) -> Payout:
    """Move `payout` by `action`, only from the state and version it was read in, with its
    ledger step and audit entry, all in the caller's transaction."""
    move = move_for(payout.status, action)
    if move is None:
        raise IllegalPayoutTransition(
            f"Cannot {action.value} a payout that is {payout.status.value}",
            {"status": payout.status.value, "allowedActions": allowed_actions(payout.status)},
        )
    attempt = payout.attempt + 1 if action is PayoutAction.RETRY else payout.attempt
    entry = PayoutStatusChange(from_status=payout.status, to_status=move.target, action=action,
                               attempt=attempt, by=actor.id, reason=reason)
    moved = await repository.move_payout(session, payout, entry, changes or {}, clock.utcnow())
    if moved is None:
        raise IllegalPayoutTransition("The payout changed meanwhile; reload it")
    key = await post_money(session, moved, actor, move.money)
    await audit.record(
        session, actor=actor, action=move.audit_action, subject_type="payout",
        subject_id=payout.id,
        changes={"status": {"from": payout.status.value, "to": move.target.value},
                 **({"attempt": {"from": payout.attempt, "to": attempt}}
                    if attempt != payout.attempt else {})},
        reason=reason,
        metadata=audit_metadata(moved, key),
    )
    if move.target is PayoutStatus.PAID and (payee := await payees.user_id_of(moved.recipient_id)):
        await notices.payout_paid(session, payout_id=moved.id, user_id=payee, amount=moved.amount,
                                  account_masked=moved.account_number_masked)
    return moved


async def settle(
    payout: Payout, action: PayoutAction, reason: str | None,
    changes: dict[str, Any] | None = None,
) -> Payout:
    """Complete or fail the processing attempt `payout` was read in, once: a concurrent settler
    (the webhook, the reconciler, the creating request) that got there first wins, and this
    call returns the payout as that one left it."""
    changes = {**(changes or {}),
               "failure_reason": reason if action is PayoutAction.FAIL else None}
    current = payout
    for _ in range(3):
        if current.status is not PayoutStatus.PROCESSING or current.attempt != payout.attempt:
            return current
        try:
            return await transaction(
                lambda session, read=current: apply(session, read, action, SYSTEM_ACTOR,
                                                    reason=reason, changes=changes)
            )
        except IllegalPayoutTransition:
            reloaded = await repository.get_payout(payout.id)
            assert reloaded is not None, "payouts are never deleted"
            current = reloaded
    return current
