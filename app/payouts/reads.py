"""Payouts and balances as their viewers see them: the recipient (a dealer or a technician),
or finance."""

from dataclasses import dataclass
from typing import Any

from app.core.errors import Forbidden, RuleViolation
from app.core.pagination import PageRequest
from app.core.permissions import Actor, Permission
from app.core.policy import sees_all
from app.payments.ledger import accounts as ledger_accounts
from app.payments.ledger import service as ledger
from app.payouts import payees, repository
from app.payouts.exceptions import PayoutNotFound, RecipientNotFound
from app.payouts.models import Payout, PayoutStatus
from app.payouts.schemas import RecipientBalance, entry_read

BALANCE_ENTRIES = 50


def _sees_every_recipient(actor: Actor) -> bool:
    """Finance sees every recipient; a dealer or technician only itself; anyone else is
    refused."""
    if sees_all(actor, Permission.PAYOUTS_MANAGE):
        return True
    if actor.role in payees.PAYEE_ROLES:
        return False
    raise Forbidden("Only the recipient and finance admins can see payouts")


async def get_visible(actor: Actor, payout_id: str) -> Payout:
    """The payout, if the actor is its recipient or finance; anyone else is told 404."""
    payout = await repository.visible_payout(actor, payout_id)
    if payout is None:
        raise PayoutNotFound
    return payout


@dataclass(frozen=True)
class PayoutFilter:
    recipient_id: str | None = None
    status: PayoutStatus | None = None


async def list_payouts(
    actor: Actor, filters: PayoutFilter, page: PageRequest
) -> tuple[list[Payout], str | None]:
    _sees_every_recipient(actor)
    query: dict[str, Any] = {}
    if filters.recipient_id:
        query["recipient_id"] = filters.recipient_id
    if filters.status:
        query["status"] = filters.status.value
    return await repository.page_visible_payouts(actor, query, page)


async def paid_out(recipient_id: str) -> int:
    """The sum of the recipient's paid payouts (the `by_recipient_status` index)."""
    return await repository.paid_out(recipient_id)


async def recipient_balance(actor: Actor, recipient_id: str | None) -> RecipientBalance:
    """Payable, what the recipient owes (its receivable) and what it nets to, pending escrow,
    in transit and paid out, with the ledger entries behind them."""
    if _sees_every_recipient(actor):
        if not recipient_id:
            raise RuleViolation("recipientId is required",
                                {"errors": [{"field": "query.recipientId", "message": "required"}]})
        if not await payees.exists(recipient_id):
            raise RecipientNotFound
    else:
        own = payees.own_recipient_id(actor)
        if not own or (recipient_id and recipient_id != own):
            raise RecipientNotFound
        recipient_id = own
    payable, in_transit = ledger_accounts.payable(recipient_id), ledger_accounts.in_transit(recipient_id)
    receivable = ledger_accounts.receivable(recipient_id)
    balances = await ledger.balances([payable, in_transit, receivable])
    entries = await ledger.entries_of([payable, in_transit, receivable], limit=BALANCE_ENTRIES)
    owed = max(-balances[receivable], 0)
    return RecipientBalance(
        recipient_id=recipient_id,
        payable=balances[payable],
        receivable=owed,
        available=max(balances[payable] - owed, 0),
        pending_escrow=await ledger.pending_escrow(recipient_id),
        in_transit=balances[in_transit],
        paid_out=await repository.paid_out(recipient_id),
        entries=[entry_read(entry) for entry in entries],
    )
