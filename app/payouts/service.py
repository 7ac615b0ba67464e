"""Payouts: reserve the payable balance, send it through the provider, settle the ledger.

Money moves only through the ledger, in the same transaction as the payout's state change
and its audit entry (see `transitions` for the table). The provider is called only between
`processing` and a settled state, always with the key `{payoutId}:{attempt}`, so asking it
again (a crashed worker, a concurrent one, the reconciler) never sends the money twice. A
payout request is made once per Idempotency-Key by the core `run_once`.
"""

import logging
from dataclasses import dataclass
from typing import Any

from fastapi.responses import JSONResponse

from app.audit import service as audit
from app.core import clock
from app.core.database import Session, transaction
from app.core.idempotency import KeyReused, RequestInProgress, run_once
from app.core.ids import new_id
from app.core.permissions import SYSTEM_ACTOR, Actor
from app.core.schemas import Envelope, ok
from app.dealers import service as dealers_service
from app.payments.ledger import accounts as ledger_accounts
from app.payments.ledger import service as ledger
from app.payouts import repository
from app.payouts.exceptions import (
    AmountExceedsPayable,
    IdempotencyKeyReused,
    IllegalPayoutTransition,
    NothingToPayOut,
    NoVerifiedAccount,
    PayoutInProgress,
    PayoutNotFound,
    RecipientNotFound,
)
from app.payouts.models import (
    Payout,
    PayoutAccount,
    PayoutAction,
    PayoutSource,
    PayoutStatus,
    PayoutStatusChange,
)
from app.payouts.provider import (
    PayoutDestination,
    PayoutProvider,
    ProviderTransferStatus,
    get_provider,
)
from app.payouts.schemas import PayoutCreate, PayoutRead
from app.payouts.transitions import (
    LedgerStep,
    Move,
    allowed_actions,
    ledger_key,
    ledger_transfer,
    move_for,
)

log = logging.getLogger(__name__)
CREATE: Move = move_for(None, PayoutAction.CREATE)  # type: ignore[assignment]


def read(payout: Payout) -> PayoutRead:
    return PayoutRead.model_validate(payout).model_copy(
        update={"allowed_actions": allowed_actions(payout.status)}
    )


def _message(payout: Payout) -> str:
    return {
        PayoutStatus.SCHEDULED: "Payout scheduled",
        PayoutStatus.PROCESSING: "Payout is processing; its outcome is not known yet",
        PayoutStatus.PAID: "Payout paid",
        PayoutStatus.FAILED: f"Payout failed: {payout.failure_reason}",
    }[payout.status]


@dataclass(frozen=True)
class PayoutResult:
    payout: PayoutRead
    message: str


# --- the state machine's executor ----------------------------------------------------------

async def _post_money(
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


async def _apply(
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
    key = await _post_money(session, moved, actor, move.money)
    await audit.record(
        session, actor=actor, action=move.audit_action, subject_type="payout",
        subject_id=payout.id,
        changes={"status": {"from": payout.status.value, "to": move.target.value},
                 **({"attempt": {"from": payout.attempt, "to": attempt}}
                    if attempt != payout.attempt else {})},
        reason=reason,
        metadata=_audit_metadata(moved, key),
    )
    return moved


def _audit_metadata(payout: Payout, ledger_key_: str | None) -> dict[str, Any]:
    return {"amount": payout.amount, "recipientId": payout.recipient_id,
            "attempt": payout.attempt, "accountId": payout.account_id,
            "accountNumberMasked": payout.account_number_masked,
            "providerTransferId": payout.provider_transfer_id, "ledgerKey": ledger_key_,
            "source": payout.source.value}


# --- create, process, retry ----------------------------------------------------------------

async def _payable_account(recipient_id: str) -> PayoutAccount:
    if await dealers_service.get_dealer(recipient_id) is None:
        raise RecipientNotFound
    account = await repository.active_account(recipient_id)
    if account is None:
        raise NoVerifiedAccount("The recipient has no payout account; it must register one")
    if not account.payable_to:
        raise NoVerifiedAccount(
            f"The recipient's payout account is {account.status.value}; "
            "payouts go only to a verified account"
        )
    return account


async def create_payout(
    actor: Actor, data: PayoutCreate, idempotency_key: str,
    source: PayoutSource = PayoutSource.MANUAL,
) -> JSONResponse:
    """Reserve and pay out (part of) a recipient's payable balance, once per key: a retry
    returns the first response (and a different body under the same key is refused)."""

    async def work() -> tuple[int, Envelope[PayoutRead]]:
        result = await _create(actor, data, source)
        return 201, ok(result.payout, result.message)

    try:
        return await run_once(f"payouts.create:{actor.id}", idempotency_key, data, work)
    except KeyReused:
        raise IdempotencyKeyReused from None
    except RequestInProgress:
        raise PayoutInProgress from None


async def _create(actor: Actor, data: PayoutCreate, source: PayoutSource) -> PayoutResult:
    account = await _payable_account(data.recipient_id)
    payout_id = new_id("pout")

    async def work(session: Session) -> Payout:
        payable = await ledger.balance(ledger_accounts.payable(data.recipient_id), session=session)
        if data.amount is None and payable <= 0:
            raise NothingToPayOut(payable)
        amount = payable if data.amount is None else data.amount
        if amount > payable:
            raise AmountExceedsPayable(amount, payable)
        payout = Payout(
            id=payout_id, recipient_id=data.recipient_id, recipient_type=account.recipient_type,
            account_id=account.id, account_number_masked=account.account_number_masked,
            ifsc=account.ifsc, amount=amount, source=source, requested_by=actor.id,
            status_history=[PayoutStatusChange(
                from_status=None, to_status=PayoutStatus.SCHEDULED, action=PayoutAction.CREATE,
                attempt=1, by=actor.id,
            )],
        )
        await repository.insert_payout(session, payout)
        key = await _post_money(session, payout, actor, CREATE.money)
        await audit.record(
            session, actor=actor, action=CREATE.audit_action, subject_type="payout",
            subject_id=payout.id,
            changes={"status": {"from": None, "to": PayoutStatus.SCHEDULED.value}},
            metadata={**_audit_metadata(payout, key), "payableBefore": payable},
        )
        return payout

    payout = await transaction(work)
    try:
        payout = await process_payout(payout.id)
    except Exception:
        # The payout is committed and its key spent: answer with it as it stands (the
        # reconciler carries it on) rather than free the key for a second payout.
        log.exception("processing a new payout failed; left to the reconciler",
                      extra={"payoutId": payout.id})
        payout = await repository.get_payout(payout.id) or payout
    return PayoutResult(read(payout), _message(payout))


async def process_payout(payout_id: str, provider: PayoutProvider | None = None) -> Payout:
    """Drive a payout from scheduled or processing to paid or failed; safe to call again.

    A provider error leaves it `processing`: its outcome is unknown, so the money stays in
    transit until a later call asks the provider again under the same key."""
    payout = await repository.get_payout(payout_id)
    if payout is None:
        raise PayoutNotFound
    if payout.status is PayoutStatus.SCHEDULED:
        scheduled = payout
        try:
            payout = await transaction(
                lambda session: _apply(session, scheduled, PayoutAction.START, SYSTEM_ACTOR)
            )
        except IllegalPayoutTransition:
            payout = await repository.get_payout(payout_id)  # another worker started it
            assert payout is not None
        else:
            # Only the worker that started this attempt may still call it off: nobody can
            # have asked the provider yet.
            account = await repository.get_account(payout.account_id)
            if account is None or not account.payable_to:
                return await _settle(
                    payout, PayoutAction.FAIL,
                    "The payout account was replaced or is no longer verified",
                )
    if payout.status is not PayoutStatus.PROCESSING:
        return payout
    account = await repository.get_account(payout.account_id)
    assert account is not None, "payout accounts are never deleted"
    destination = PayoutDestination(account.holder_name, account.account_number, account.ifsc)
    try:
        transfer = await (provider or get_provider()).transfer(
            idempotency_key=f"{payout.id}:{payout.attempt}", account=destination,
            amount=payout.amount, reference=payout.id,
        )
    except Exception:
        log.exception("payout provider outcome unknown; payout left processing",
                      extra={"payoutId": payout.id, "attempt": payout.attempt})
        return payout
    if transfer.status is ProviderTransferStatus.PROCESSED:
        return await _settle(payout, PayoutAction.COMPLETE, None,
                             {"provider_transfer_id": transfer.id, "paid_at": clock.utcnow()})
    reason = transfer.failure_reason or "rejected by the payout provider"
    return await _settle(payout, PayoutAction.FAIL, reason,
                         {"provider_transfer_id": transfer.id})


async def _settle(
    payout: Payout, action: PayoutAction, reason: str | None,
    changes: dict[str, Any] | None = None,
) -> Payout:
    changes = {**(changes or {}),
               "failure_reason": reason if action is PayoutAction.FAIL else None}
    try:
        return await transaction(
            lambda session: _apply(session, payout, action, SYSTEM_ACTOR, reason=reason,
                                   changes=changes)
        )
    except IllegalPayoutTransition:
        settled = await repository.get_payout(payout.id)  # a concurrent worker settled it first
        assert settled is not None
        return settled


async def retry_payout(actor: Actor, payout_id: str) -> PayoutResult:
    """Send a failed payout again (attempt + 1), to the recipient's current verified account."""
    payout = await repository.get_payout(payout_id)
    if payout is None:
        raise PayoutNotFound
    if move_for(payout.status, PayoutAction.RETRY) is None:
        raise IllegalPayoutTransition(
            f"Only a failed payout can be retried; this one is {payout.status.value}",
            {"status": payout.status.value},
        )
    account = await _payable_account(payout.recipient_id)

    async def work(session: Session) -> Payout:
        payable = await ledger.balance(ledger_accounts.payable(payout.recipient_id),
                                       session=session)
        if payout.amount > payable:
            raise AmountExceedsPayable(payout.amount, payable)
        return await _apply(
            session, payout, PayoutAction.RETRY, actor,
            changes={"account_id": account.id,
                     "account_number_masked": account.account_number_masked,
                     "ifsc": account.ifsc, "provider_transfer_id": None,
                     "failure_reason": None},
        )

    retried = await transaction(work)
    settled = await process_payout(retried.id)
    return PayoutResult(read(settled), _message(settled))
