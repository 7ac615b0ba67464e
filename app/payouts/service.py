"""Payouts: reserve the payable balance, send it through the provider, settle the ledger.

Money moves only through the ledger, in the same transaction as the payout's state change
and its audit entry (see `transitions` for the table). The provider is called only between
`processing` and a settled state, always with the key `{payoutId}:{attempt}`, so asking it
again (a crashed worker, a concurrent one, the reconciler) never sends the money twice.
"""

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from app.audit import service as audit
from app.core import clock
from app.core.database import Session, transaction
from app.core.errors import Forbidden, RuleViolation
from app.core.ids import new_id
from app.core.pagination import PageRequest, paginate
from app.core.permissions import SYSTEM_ACTOR, Actor, Permission, Role
from app.dealers import service as dealers_service
from app.payments.ledger import accounts as ledger_accounts
from app.payments.ledger import service as ledger
from app.payouts import accounts
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
from app.payouts.schemas import PayoutCreate, PayoutRead, RecipientBalance, entry_read
from app.payouts.transitions import (
    LedgerStep,
    Move,
    allowed_actions,
    ledger_key,
    ledger_transfer,
    move_for,
)

log = logging.getLogger(__name__)
BALANCE_ENTRIES = 50
CREATE: Move = move_for(None, PayoutAction.CREATE)  # type: ignore[assignment]


def _collection() -> AsyncCollection:
    return Payout.get_pymongo_collection()


async def get(payout_id: str, session: Session | None = None) -> Payout | None:
    doc = await _collection().find_one({"_id": payout_id}, session=session)
    return Payout.model_validate(doc) if doc else None


async def _by_key(scoped_key: str) -> Payout | None:
    doc = await _collection().find_one({"idempotency_key": scoped_key})
    return Payout.model_validate(doc) if doc else None


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
    replayed: bool = False


def fingerprint(data: PayoutCreate) -> str:
    canonical = json.dumps(data.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


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
    doc = await _collection().find_one_and_update(
        {"_id": payout.id, "status": payout.status.value, "version": payout.version},
        {"$set": {**(changes or {}), "status": move.target.value, "attempt": attempt,
                  "updated_at": clock.utcnow()},
         "$inc": {"version": 1},
         "$push": {"status_history": entry.model_dump(mode="python")}},
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    if doc is None:
        raise IllegalPayoutTransition("The payout changed meanwhile; reload it")
    moved = Payout.model_validate(doc)
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
    account = await accounts.active_account(recipient_id)
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
) -> PayoutResult:
    """Reserve and pay out (part of) a recipient's payable balance, once per key."""
    scoped_key, print_ = f"{actor.id}:{idempotency_key}", fingerprint(data)
    if (existing := await _by_key(scoped_key)) is not None:
        return _replay(existing, print_)
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
            idempotency_key=scoped_key, request_fingerprint=print_,
            status_history=[PayoutStatusChange(
                from_status=None, to_status=PayoutStatus.SCHEDULED, action=PayoutAction.CREATE,
                attempt=1, by=actor.id,
            )],
        )
        await _collection().insert_one(
            {"_id": payout.id, **payout.model_dump(exclude={"id", "revision_id"})}, session=session
        )
        key = await _post_money(session, payout, actor, CREATE.money)
        await audit.record(
            session, actor=actor, action=CREATE.audit_action, subject_type="payout",
            subject_id=payout.id,
            changes={"status": {"from": None, "to": PayoutStatus.SCHEDULED.value}},
            metadata={**_audit_metadata(payout, key), "payableBefore": payable},
        )
        return payout

    try:
        payout = await transaction(work)
    except DuplicateKeyError:
        # The same key, concurrently: the other request created the payout.
        existing = await _by_key(scoped_key)
        if existing is None:
            raise PayoutInProgress from None
        return _replay(existing, print_)
    payout = await process_payout(payout.id)
    result = PayoutResult(read(payout), _message(payout))
    await _collection().update_one(
        {"_id": payout.id, "first_response": None},
        {"$set": {"first_response": {
            "message": result.message, "data": result.payout.model_dump(mode="json", by_alias=True),
        }}},
    )
    return result


def _replay(existing: Payout, print_: str) -> PayoutResult:
    """The first response to this key; a different body under the same key is refused."""
    if existing.request_fingerprint != print_:
        raise IdempotencyKeyReused
    if existing.first_response:
        return PayoutResult(
            PayoutRead.model_validate(existing.first_response["data"]),
            existing.first_response["message"], replayed=True,
        )
    # The first request is still processing it (or died doing so): its current state.
    return PayoutResult(read(existing), _message(existing), replayed=True)


async def process_payout(payout_id: str, provider: PayoutProvider | None = None) -> Payout:
    """Drive a payout from scheduled or processing to paid or failed; safe to call again.

    A provider error leaves it `processing`: its outcome is unknown, so the money stays in
    transit until a later call asks the provider again under the same key."""
    payout = await get(payout_id)
    if payout is None:
        raise PayoutNotFound
    if payout.status is PayoutStatus.SCHEDULED:
        scheduled = payout
        try:
            payout = await transaction(
                lambda session: _apply(session, scheduled, PayoutAction.START, SYSTEM_ACTOR)
            )
        except IllegalPayoutTransition:
            payout = await get(payout_id)  # another worker started it
            assert payout is not None
        else:
            # Only the worker that started this attempt may still call it off: nobody can
            # have asked the provider yet.
            account = await accounts.get_account(payout.account_id)
            if account is None or not account.payable_to:
                return await _settle(
                    payout, PayoutAction.FAIL,
                    "The payout account was replaced or is no longer verified",
                )
    if payout.status is not PayoutStatus.PROCESSING:
        return payout
    account = await accounts.get_account(payout.account_id)
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
        settled = await get(payout.id)  # a concurrent worker settled it first
        assert settled is not None
        return settled


async def retry_payout(actor: Actor, payout_id: str) -> PayoutResult:
    """Send a failed payout again (attempt + 1), to the recipient's current verified account."""
    payout = await get(payout_id)
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


async def resume_unsettled(older_than: timedelta, limit: int = 100) -> int:
    """Carry on payouts left scheduled or processing (a crash, a provider timeout)."""
    cursor = (
        _collection()
        .find({"status": {"$in": [PayoutStatus.SCHEDULED.value, PayoutStatus.PROCESSING.value]},
               "updated_at": {"$lt": clock.utcnow() - older_than}}, {"_id": 1})
        .sort("updated_at", ASCENDING)
        .limit(limit)
    )
    resumed = 0
    for doc in await cursor.to_list():
        try:
            await process_payout(doc["_id"])
            resumed += 1
        except Exception:
            log.exception("resuming a payout failed", extra={"payoutId": doc["_id"]})
    return resumed


# --- reads ---------------------------------------------------------------------------------

async def _own_recipient(actor: Actor) -> str | None:
    """None when the actor sees every recipient (finance); else the id of its own dealer."""
    if actor.can(Permission.PAYOUTS_MANAGE):
        return None
    if actor.role is Role.DEALER:
        return await dealers_service.dealer_id_of(actor) or ""
    raise Forbidden("Only the recipient and finance admins can see payouts")


async def get_visible(actor: Actor, payout_id: str) -> Payout:
    """The payout, if the actor is its recipient or finance; anyone else is told 404."""
    payout = await get(payout_id)
    try:
        own = await _own_recipient(actor)
    except Forbidden:
        raise PayoutNotFound from None
    if payout is None or (own is not None and payout.recipient_id != own):
        raise PayoutNotFound
    return payout


@dataclass(frozen=True)
class PayoutFilter:
    recipient_id: str | None = None
    status: PayoutStatus | None = None


async def list_payouts(
    actor: Actor, filters: PayoutFilter, page: PageRequest
) -> tuple[list[Payout], str | None]:
    own = await _own_recipient(actor)
    query: dict[str, Any] = {}
    if own is not None:
        if not own or (filters.recipient_id and filters.recipient_id != own):
            return [], None
        query["recipient_id"] = own
    elif filters.recipient_id:
        query["recipient_id"] = filters.recipient_id
    if filters.status:
        query["status"] = filters.status.value
    docs, next_cursor = await paginate(_collection(), query, page)
    return [Payout.model_validate(doc) for doc in docs], next_cursor


async def recipient_balance(actor: Actor, recipient_id: str | None) -> RecipientBalance:
    """Payable, pending escrow, in transit and paid out, with the ledger entries behind them."""
    own = await _own_recipient(actor)
    if own is None:
        if not recipient_id:
            raise RuleViolation("recipientId is required",
                                {"errors": [{"field": "query.recipientId", "message": "required"}]})
        if await dealers_service.get_dealer(recipient_id) is None:
            raise RecipientNotFound
    else:
        if not own or (recipient_id and recipient_id != own):
            raise RecipientNotFound
        recipient_id = own
    payable, in_transit = ledger_accounts.payable(recipient_id), ledger_accounts.in_transit(recipient_id)
    balances = await ledger.balances([payable, in_transit])
    entries = await ledger.entries_of([payable, in_transit], limit=BALANCE_ENTRIES)
    return RecipientBalance(
        recipient_id=recipient_id,
        payable=balances[payable],
        pending_escrow=await ledger.pending_escrow(recipient_id),
        in_transit=balances[in_transit],
        paid_out=await paid_out(recipient_id),
        entries=[entry_read(entry) for entry in entries],
    )


async def paid_out(recipient_id: str) -> int:
    """The sum of the recipient's paid payouts (each posted in_transit → payouts with it)."""
    pipeline = [{"$match": {"recipient_id": recipient_id, "status": PayoutStatus.PAID.value}},
                {"$group": {"_id": None, "total": {"$sum": "$amount"}}}]
    rows = await (await _collection().aggregate(pipeline)).to_list()
    return int(rows[0]["total"]) if rows else 0
