"""Sending a payout through the provider and settling it by what the provider says.

A payout is `paid` only when the provider reports it `processed`, and goes back to the payable
balance when it reports `reversed`, `failed` (or `cancelled`/`rejected`). The report comes from
whichever arrives first: the answer to the create call, a signed webhook, or the reconciler's
fetch; the state machine settles each attempt once, whichever of them arrives again. The
provider is asked only while the payout is `processing`, always with the attempt's key.
"""

import logging
from typing import Any

from app.core import clock
from app.core.database import transaction
from app.core.permissions import SYSTEM_ACTOR
from app.payouts import machine, repository
from app.payouts.crypto import open_account_number
from app.payouts.exceptions import IllegalPayoutTransition, PayoutNotFound, ProviderRefused
from app.payouts.models import Payout, PayoutAction, PayoutStatus
from app.payouts.provider import (
    PayoutDestination,
    PayoutProvider,
    ProviderPayout,
    get_provider,
    payout_from_entity,
)

log = logging.getLogger(__name__)


def idempotency_key(payout: Payout) -> str:
    """The attempt's `X-Payout-Idempotency` key (RazorpayX takes 4–36 of [A-Za-z0-9_- ])."""
    return f"{payout.id}-{payout.attempt}"


async def process_payout(payout_id: str, provider: PayoutProvider | None = None) -> Payout:
    """Drive a payout from scheduled into processing and ask the provider about it; safe to
    call again. An unknown outcome (a timeout, a 5xx) leaves it `processing`: the money stays
    in transit until a later call asks again under the same key."""
    payout = await repository.get_payout(payout_id)
    if payout is None:
        raise PayoutNotFound
    if payout.status is PayoutStatus.SCHEDULED:
        scheduled = payout
        try:
            payout = await transaction(
                lambda session: machine.apply(session, scheduled, PayoutAction.START, SYSTEM_ACTOR)
            )
        except IllegalPayoutTransition:
            payout = await repository.get_payout(payout_id)  # another worker started it
            assert payout is not None
        else:
            # Only the worker that started this attempt may still call it off: nobody can
            # have asked the provider yet.
            account = await repository.get_account(payout.account_id)
            if account is None or not account.payable_to:
                return await machine.settle(
                    payout, PayoutAction.FAIL,
                    "The payout account was replaced or is no longer verified",
                )
    if payout.status is not PayoutStatus.PROCESSING:
        return payout
    provider = provider or get_provider()
    try:
        if payout.provider_transfer_id:
            # It exists at the provider: whatever a fetch answers, only a status settles it.
            found = await provider.fetch_payout(payout.provider_transfer_id)
        else:
            try:
                fund_account_id = await _fund_account(provider, payout.account_id)
                found = await provider.create_payout(
                    idempotency_key(payout), fund_account_id, payout.amount, payout.id,
                    {"payoutId": payout.id, "attempt": str(payout.attempt)},
                )
            except ProviderRefused as refusal:  # no payout was made: the money comes back
                return await machine.settle(payout, PayoutAction.FAIL,
                                            f"Refused by the payout provider: {refusal}")
    except Exception:
        log.exception("payout provider outcome unknown; payout left processing",
                      extra={"payoutId": payout.id, "attempt": payout.attempt})
        return payout
    return await apply_provider_payout(payout, found)


async def _fund_account(provider: PayoutProvider, account_id: str) -> str:
    """The provider's fund account for a payout account, registered on first use (the only
    place the sealed account number is opened)."""
    account = await repository.get_account(account_id)
    assert account is not None, "payout accounts are never deleted"
    if account.provider_fund_account_id:
        return account.provider_fund_account_id
    destination = PayoutDestination(
        account.id, account.holder_name,
        open_account_number(account.account_number_sealed, account.id), account.ifsc,
    )
    registered = await provider.register_destination(destination)
    await repository.note_provider_destination(account.id, registered.contact_id,
                                               registered.fund_account_id)
    return registered.fund_account_id


async def apply_provider_payout(payout: Payout, found: ProviderPayout) -> Payout:
    """Settle the payout's processing attempt by the provider's status, or note it."""
    changes: dict[str, Any] = {"provider_transfer_id": found.id, "provider_status": found.status}
    if found.paid:
        return await machine.settle(payout, PayoutAction.COMPLETE, None,
                                    {**changes, "paid_at": clock.utcnow()})
    if found.returned:
        reason = found.failure_reason or f"The payout was {found.status} by the provider"
        return await machine.settle(payout, PayoutAction.FAIL, reason, changes)
    noted = await repository.note_provider_payout(payout.id, payout.attempt, found.id, found.status)
    return noted or await repository.get_payout(payout.id) or payout


async def apply_provider_event(event: str, payload: dict[str, Any]) -> str:
    """Payments' webhook route hands over every signed `payout.*` event: settle the payout it
    names (its `reference_id`, the attempt in its notes). Returns what happened."""
    wrapper = payload.get("payout")
    entity = wrapper.get("entity") if isinstance(wrapper, dict) else None
    if not isinstance(entity, dict) or not entity.get("id"):
        return "ignored"
    found = payout_from_entity(entity)
    payout = await repository.get_payout(found.reference_id) if found.reference_id else None
    if payout is None:
        return "unknown_payout"
    if found.attempt != payout.attempt or (
        payout.provider_transfer_id not in (None, found.id)
    ):
        return "stale_payout_attempt"
    if found.amount != payout.amount:
        log.error("payout webhook amount differs; not applied",
                  extra={"payoutId": payout.id, "event": event, "amount": found.amount})
        return "payout_amount_mismatch"
    if payout.status is not PayoutStatus.PROCESSING:
        return "payout_already_settled"
    settled = await apply_provider_payout(payout, found)
    return {PayoutStatus.PAID: "payout_paid", PayoutStatus.FAILED: "payout_returned"}.get(
        settled.status, "payout_pending"
    )
