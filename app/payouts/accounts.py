"""Payout accounts: registration by the recipient, verification by finance."""

from dataclasses import dataclass
from typing import Any

from pymongo.errors import DuplicateKeyError

from app.audit import service as audit
from app.core import clock
from app.core.database import Session, transaction
from app.core.errors import Forbidden, ReasonRequired
from app.core.ids import new_id
from app.core.pagination import PageRequest
from app.core.permissions import Actor, Permission
from app.payouts import payees, repository
from app.payouts.crypto import seal_account_number
from app.payouts.exceptions import IllegalAccountTransition, PayoutAccountNotFound
from app.payouts.models import (
    AccountStatusChange,
    PayoutAccount,
    PayoutAccountStatus,
    mask_account_number,
)
from app.payouts.schemas import PayoutAccountCreate, PayoutAccountVerification, VerificationAction

S = PayoutAccountStatus

# The verification state machine: (state, action) → state. Superseding (a newer registration
# replaces the account) is not a finance action: it happens only inside `register_account`.
VERIFICATION_TRANSITIONS: dict[tuple[PayoutAccountStatus, VerificationAction], PayoutAccountStatus] = {
    (S.PENDING_VERIFICATION, VerificationAction.VERIFY): S.VERIFIED,
    (S.PENDING_VERIFICATION, VerificationAction.REJECT): S.REJECTED,
    # Finance may revoke a verified account (e.g. the bank reports it closed).
    (S.VERIFIED, VerificationAction.REJECT): S.REJECTED,
}


def _audit_view(account: PayoutAccount) -> dict[str, Any]:
    """What the audit trail keeps of an account: never the full number."""
    return {"recipientId": account.recipient_id, "holderName": account.holder_name,
            "accountNumberMasked": account.account_number_masked, "ifsc": account.ifsc}


async def register_account(actor: Actor, data: PayoutAccountCreate) -> PayoutAccount:
    """Register the calling payee's (dealer's or technician's) bank account; it replaces the
    payee's previous one."""
    payee = await payees.own_payee(actor)
    account_id = new_id("pac")
    account = PayoutAccount(
        id=account_id,
        recipient_id=payee.recipient_id,
        recipient_type=payee.recipient_type,
        owner_user_id=actor.id,
        holder_name=data.holder_name,
        account_number_sealed=seal_account_number(data.account_number, account_id),
        account_number_masked=mask_account_number(data.account_number),
        ifsc=data.ifsc,
        status_history=[AccountStatusChange(from_status=None, to_status=S.PENDING_VERIFICATION,
                                            action="register", by=actor.id)],
    )

    async def work(session: Session) -> PayoutAccount:
        # The partial unique index allows one active account per recipient, so a concurrent
        # registration conflicts here and is retried after this one commits.
        previous = await repository.active_account(payee.recipient_id, session=session)
        if previous is not None:
            await _supersede(session, actor, previous, account.id)
            account.replaces = previous.id
            account.replaced_paid_account = await repository.was_paid_to(
                previous.recipient_id, previous.id, session)
        await repository.insert_account(session, account)
        await audit.record(
            session, actor=actor, action="payout.account_registered",
            subject_type="payout_account", subject_id=account.id,
            changes={"status": {"from": None, "to": account.status.value}},
            metadata=_audit_view(account),
        )
        return account

    for attempt in range(3):
        try:
            return await transaction(work)
        except DuplicateKeyError:
            # A concurrent registration committed first; supersede it in turn.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def _supersede(
    session: Session, actor: Actor, previous: PayoutAccount, replacement_id: str
) -> None:
    entry = AccountStatusChange(from_status=previous.status, to_status=S.SUPERSEDED,
                                action="supersede", by=actor.id)
    if not await repository.supersede_account(session, previous, replacement_id, entry,
                                              clock.utcnow()):
        raise IllegalAccountTransition("The payout account changed meanwhile; try again")
    await audit.record(
        session, actor=actor, action="payout.account_superseded",
        subject_type="payout_account", subject_id=previous.id,
        changes={"status": {"from": previous.status.value, "to": S.SUPERSEDED.value},
                 "active": {"from": True, "to": False}},
        metadata={**_audit_view(previous), "supersededBy": replacement_id},
    )


async def change_verification(
    actor: Actor, account_id: str, change: PayoutAccountVerification
) -> PayoutAccount:
    """Verify or reject an account, only from the state it was read in."""
    account = await repository.get_account(account_id)
    if account is None:
        raise PayoutAccountNotFound
    target = VERIFICATION_TRANSITIONS.get((account.status, change.action))
    if target is None or not account.active:
        raise IllegalAccountTransition(
            f"Cannot {change.action.value} a payout account that is {account.status.value}",
            {"status": account.status.value},
        )
    if change.action is VerificationAction.REJECT and not change.reason:
        raise ReasonRequired("A reason is required to reject a payout account")
    entry = AccountStatusChange(from_status=account.status, to_status=target,
                                action=change.action.value, by=actor.id, reason=change.reason)

    async def work(session: Session) -> PayoutAccount:
        moved = await repository.move_account(session, account, entry, clock.utcnow())
        if moved is None:
            raise IllegalAccountTransition("The payout account changed meanwhile; reload it")
        action = "verified" if target is S.VERIFIED else "rejected"
        await audit.record(
            session, actor=actor, action=f"payout.account_{action}",
            subject_type="payout_account", subject_id=account.id,
            changes={"status": {"from": account.status.value, "to": target.value}},
            reason=change.reason, metadata=_audit_view(account),
        )
        return moved

    return await transaction(work)


@dataclass(frozen=True)
class AccountFilter:
    recipient_id: str | None = None
    status: PayoutAccountStatus | None = None


async def list_accounts(
    actor: Actor, filters: AccountFilter, page: PageRequest
) -> tuple[list[PayoutAccount], str | None]:
    """Finance sees every account; a payee (dealer, technician) its own (current and replaced)."""
    if not actor.can(Permission.PAYOUT_ACCOUNTS_VERIFY) and actor.role not in payees.PAYEE_ROLES:
        raise Forbidden("Only dealers, technicians and finance admins have payout accounts "
                        "to list")
    query: dict[str, Any] = {}
    if filters.recipient_id:
        query["recipient_id"] = filters.recipient_id
    if filters.status:
        query["status"] = filters.status.value
    return await repository.page_visible_accounts(actor, query, page)
