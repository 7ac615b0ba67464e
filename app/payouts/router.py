from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from app.auth.dependencies import CurrentActor, require
from app.core.errors import responses
from app.core.idempotency import IdempotencyKey
from app.core.pagination import Pagination
from app.core.permissions import Actor, Permission
from app.core.schemas import Envelope, Page, ok
from app.payouts import accounts, reads, review, service
from app.payouts.models import PayoutAccount, PayoutAccountStatus, PayoutStatus
from app.payouts.schemas import (
    PayoutAccountCreate,
    PayoutAccountRead,
    PayoutAccountVerification,
    PayoutCreate,
    PayoutRead,
    RecipientBalance,
)
from app.risk.schemas import ReviewDecision

router = APIRouter(prefix="/api/payouts", tags=["Payouts"], responses=responses(401, 403))
admin_router = APIRouter(prefix="/api/admin/payouts", tags=["Admin"],
                         responses=responses(401, 403))
AccountId = Annotated[str, Path(alias="accountId", max_length=64)]
PayoutId = Annotated[str, Path(alias="payoutId", max_length=64)]
RecipientFilter = Annotated[str | None, Query(alias="recipientId", max_length=64)]
IdemKey = Annotated[str, IdempotencyKey]
AccountRegistrant = require(Permission.PAYOUT_ACCOUNTS_REGISTER)
AccountVerifier = require(Permission.PAYOUT_ACCOUNTS_VERIFY)
PayoutManager = require(Permission.PAYOUTS_MANAGE)
RiskReviewer = require(Permission.RISK_REVIEW)


def _account(account: PayoutAccount, actor: Actor) -> PayoutAccountRead:
    return PayoutAccountRead.model_validate(account).shown_to(actor)


@router.post("/accounts", status_code=201, responses=responses(422))
async def register_account(
    body: PayoutAccountCreate, actor: AccountRegistrant
) -> Envelope[PayoutAccountRead]:
    """Register your (a dealer's or technician's) bank account, replacing the previous one."""
    account = await accounts.register_account(actor, body)
    return ok(_account(account, actor), "Payout account registered; awaiting verification")


@router.get("/accounts")
async def list_accounts(
    actor: CurrentActor,
    page: Pagination,
    recipient_id: RecipientFilter = None,
    status: PayoutAccountStatus | None = None,
) -> Envelope[Page[PayoutAccountRead]]:
    """Payout accounts: a dealer's or technician's own; every account for finance (filter by recipientId)."""
    items, next_cursor = await accounts.list_accounts(
        actor, accounts.AccountFilter(recipient_id=recipient_id, status=status), page
    )
    return ok(Page(items=[_account(item, actor) for item in items], next_cursor=next_cursor))


@router.patch("/accounts/{accountId}/verification", responses=responses(404, 409, 422))
async def change_verification(
    account_id: AccountId, body: PayoutAccountVerification, actor: AccountVerifier
) -> Envelope[PayoutAccountRead]:
    """Verify or reject a payout account pending verification (a reason is required to reject)."""
    account = await accounts.change_verification(actor, account_id, body)
    return ok(_account(account, actor), f"Payout account {account.status.value}")


@router.get("/balance", responses=responses(404, 422))
async def balance(actor: CurrentActor, recipient_id: RecipientFilter = None) -> Envelope[RecipientBalance]:
    """A recipient's payable, pending-escrow, in-transit and paid-out paise, with ledger entries."""
    return ok(await reads.recipient_balance(actor, recipient_id))


@router.post("", status_code=201, response_model=Envelope[PayoutRead],
             responses=responses(404, 409, 422))
async def create_payout(body: PayoutCreate, actor: PayoutManager, key: IdemKey) -> Any:
    """Pay out a recipient's payable balance (or part of it) to its verified account through
    RazorpayX: `processing` until RazorpayX reports it processed (then `paid`), reversed or
    failed (then `failed`, the money back in the payable balance)."""
    return await service.create_payout(actor, body, key)


@router.get("")
async def list_payouts(
    actor: CurrentActor,
    page: Pagination,
    recipient_id: RecipientFilter = None,
    status: PayoutStatus | None = None,
) -> Envelope[Page[PayoutRead]]:
    """Payouts, newest first: a payee's own; every payout for finance (filter by recipient)."""
    items, next_cursor = await reads.list_payouts(
        actor, reads.PayoutFilter(recipient_id=recipient_id, status=status), page
    )
    return ok(Page(items=[service.read(item).shown_to(actor) for item in items], next_cursor=next_cursor))


@router.get("/{payoutId}", responses=responses(404))
async def get_payout(payout_id: PayoutId, actor: CurrentActor) -> Envelope[PayoutRead]:
    """One payout, to its recipient and finance admins."""
    return ok(service.read(await reads.get_visible(actor, payout_id)).shown_to(actor))


@router.post("/{payoutId}/retry", responses=responses(404, 409, 422))
async def retry_payout(payout_id: PayoutId, actor: PayoutManager) -> Envelope[PayoutRead]:
    """Send a failed payout again (next attempt) to the recipient's current verified account."""
    result = await service.retry_payout(actor, payout_id)
    return ok(result.payout, result.message)


@admin_router.patch("/{payoutId}/review", responses=responses(404, 409, 422))
async def decide_payout_review(
    payout_id: PayoutId, body: ReviewDecision, actor: RiskReviewer
) -> Envelope[PayoutRead]:
    """Decide a payout the fraud checks held (ops): approve → scheduled and sent; reject →
    rejected, its money back in the payable balance; 409 unless on_review."""
    payout = await review.decide_review(actor, payout_id, body)
    return ok(service.read(payout).shown_to(actor), service.message(payout))
