"""Payouts: reserve the payable balance, send it through the provider, settle the ledger.

Money moves only through the ledger, in the same transaction as the payout's state change
and its audit entry (see `transitions` for the table, `machine` for its executor). The
provider is called only between `processing` and a settled state, always with the attempt's
key (see `settlement`), so asking it again (a crashed worker, a concurrent one, the
reconciler) never sends the money twice. A payout request is made once per Idempotency-Key
by the core `run_once`. Other packages call `process_payout` and `apply_provider_event` here.
"""

import logging
from dataclasses import dataclass

from fastapi.responses import JSONResponse

from app.audit import service as audit
from app.core import clock
from app.core.database import Session, transaction
from app.core.idempotency import KeyReused, RequestInProgress, run_once
from app.core.ids import new_id
from app.core.permissions import Actor
from app.core.queues import QueuePosition, Waiting
from app.core.schemas import Envelope, ok
from app.payments.ledger import accounts as ledger_accounts
from app.payments.ledger import service as ledger
from app.payouts import machine, payees, repository
from app.payouts.exceptions import (
    AmountExceedsPayable,
    IdempotencyKeyReused,
    IllegalPayoutTransition,
    NothingToPayOut,
    NoVerifiedAccount,
    PayoutInProgress,
    PayoutNotFound,
    PayoutRefused,
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
from app.payouts.schemas import PayoutCreate, PayoutRead
from app.payouts.settlement import apply_provider_event as apply_provider_event
from app.payouts.settlement import process_payout
from app.payouts.transitions import Move, allowed_actions, move_for
from app.risk import rules as risk_rules
from app.risk import service as risk
from app.risk.models import RiskEvent

log = logging.getLogger(__name__)
CREATE: Move = move_for(None, PayoutAction.CREATE)  # type: ignore[assignment]
HOLD: Move = move_for(None, PayoutAction.HOLD)  # type: ignore[assignment]


def read(payout: Payout) -> PayoutRead:
    return PayoutRead.model_validate(payout).model_copy(
        update={"allowed_actions": allowed_actions(payout.status)}
    )


def message(payout: Payout) -> str:
    return {
        PayoutStatus.SCHEDULED: "Payout scheduled",
        PayoutStatus.PROCESSING: "Payout sent; it is paid when the bank confirms it",
        PayoutStatus.PAID: "Payout paid",
        PayoutStatus.FAILED: f"Payout failed: {payout.failure_reason}",
        PayoutStatus.ON_REVIEW: "Payout on review: an ops admin must approve it before it is sent",
        PayoutStatus.REJECTED: "Payout rejected on review; the money is back in the payable balance",
    }[payout.status]


@dataclass(frozen=True)
class PayoutResult:
    payout: PayoutRead
    message: str


# --- create, process, retry ----------------------------------------------------------------

async def _payable_account(recipient_id: str) -> PayoutAccount:
    if not await payees.exists(recipient_id):
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
    assessment = risk.assess(RiskEvent.PAYOUT, [risk_rules.payout_account_changed(
        risk.risk_settings(), account.replaced_paid_account, account.created_at, clock.utcnow())])
    move = HOLD if assessment.held else CREATE

    async def work(session: Session) -> Payout | PayoutRefused:
        # What the recipient owes is netted off first: the recovery is committed even when
        # nothing is left to pay out (the refusal is returned, not raised, for that).
        recovered, owed = await machine.recover_receivable(session, data.recipient_id,
                                                           payout_id, actor)
        payable = await ledger.balance(ledger_accounts.payable(data.recipient_id), session=session)
        if data.amount is None and payable <= 0:
            return NothingToPayOut(payable, owed)
        amount = payable if data.amount is None else data.amount
        if amount > payable:
            return AmountExceedsPayable(amount, payable, owed)
        payout = Payout(
            id=payout_id, recipient_id=data.recipient_id, recipient_type=account.recipient_type,
            account_id=account.id, account_number_masked=account.account_number_masked,
            ifsc=account.ifsc, amount=amount, source=source, requested_by=actor.id,
            status=move.target, risk_flags=assessment.codes,
            status_history=[PayoutStatusChange(
                from_status=None, to_status=move.target,
                action=PayoutAction.HOLD if move is HOLD else PayoutAction.CREATE,
                attempt=1, by=actor.id,
                reason=f"Fraud checks: {', '.join(assessment.codes)}" if move is HOLD else None,
            )],
        )
        await repository.insert_payout(session, payout)
        key = await machine.post_money(session, payout, actor, move.money)
        await audit.record(
            session, actor=actor, action=move.audit_action, subject_type="payout",
            subject_id=payout.id,
            changes={"status": {"from": None, "to": move.target.value}},
            metadata={**machine.audit_metadata(payout, key), "payableBefore": payable + recovered,
                      "receivableRecovered": recovered, "riskFlags": assessment.codes},
        )
        await risk.record(session, actor, assessment, "payout", payout.id, move.target.value)
        return payout

    created = await transaction(work)
    if isinstance(created, PayoutRefused):
        raise created
    payout = created
    try:
        payout = await process_payout(payout.id)
    except Exception:
        # The payout is committed and its key spent: answer with it as it stands (the
        # reconciler carries it on) rather than free the key for a second payout.
        log.exception("processing a new payout failed; left to the reconciler",
                      extra={"payoutId": payout.id})
        payout = await repository.get_payout(payout.id) or payout
    return PayoutResult(read(payout), message(payout))


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
        _, owed = await machine.recover_receivable(
            session, payout.recipient_id, f"{payout.id}:{payout.attempt + 1}", actor)
        payable = await ledger.balance(ledger_accounts.payable(payout.recipient_id),
                                       session=session)
        if payout.amount > payable:
            raise AmountExceedsPayable(payout.amount, payable, owed)
        return await machine.apply(
            session, payout, PayoutAction.RETRY, actor,
            changes={"account_id": account.id,
                     "account_number_masked": account.account_number_masked,
                     "ifsc": account.ifsc, "provider_transfer_id": None,
                     "provider_status": None, "failure_reason": None},
        )

    retried = await transaction(work)
    settled = await process_payout(retried.id)
    return PayoutResult(read(settled), message(settled))


async def on_review(actor: Actor, after: QueuePosition | None, limit: int) -> list[Waiting]:
    """Payouts the fraud checks hold, oldest first (decided with
    PATCH /api/admin/payouts/{payoutId}/review)."""
    return await repository.on_review(actor, after, limit)


async def count_on_review(actor: Actor) -> int:
    return await repository.count_on_review(actor)


async def accounts_awaiting_verification(
    actor: Actor, after: QueuePosition | None, limit: int
) -> list[Waiting]:
    """Payout accounts awaiting verification, oldest first (the approval queue)."""
    return await repository.accounts_awaiting_verification(actor, after, limit)


async def count_accounts_awaiting_verification(actor: Actor) -> int:
    return await repository.count_accounts_awaiting_verification(actor)
