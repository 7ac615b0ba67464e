import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Request

from app.auth.dependencies import CurrentActor, require
from app.core.errors import responses
from app.core.idempotency import IdempotencyKey, run_once
from app.core.pagination import Pagination
from app.core.permissions import Permission
from app.core.schemas import Envelope, Page, ok
from app.payments import reads, service
from app.payments.gateway_access import gateway
from app.payments.ledger import service as ledger
from app.payments.models import EscrowStatus, PaymentStatus
from app.payments.schemas import (
    CheckoutResult,
    HoldIn,
    LedgerVerification,
    PaymentCheckout,
    PaymentCreate,
    PaymentRead,
    RefundIn,
    RefundRead,
    ReleaseIn,
    WebhookAck,
)

router = APIRouter(tags=["Payments"], responses=responses(401, 403))
# The gateway's webhook on its own router: the app includes it with its own body cap
# (PAYMENT_WEBHOOK_MAX_BODY_BYTES) instead of the app-wide one.
webhook_router = APIRouter(tags=["Payments"])
PaymentId = Annotated[str, Path(alias="paymentId", max_length=64)]
IdemKey = Annotated[str, IdempotencyKey]


@router.post("/api/payments", status_code=201, response_model=Envelope[PaymentCheckout],
             responses=responses(404, 409, 422, 502))
async def create_payment(
    body: PaymentCreate, actor: require(Permission.PAYMENTS_MAKE), key: IdemKey
) -> Any:
    """Start paying for an order (re-validated, its stock kept) or a repair job's accepted
    quote (`repairId`): opens a gateway order."""

    async def work() -> tuple[int, Envelope[PaymentCheckout]]:
        payable_type, payable_id = body.payable
        payment = await service.create_payment(actor, payable_id, payable_type)
        checkout = PaymentCheckout(**PaymentRead.of(payment, actor).model_dump(), key_id=gateway().key_id)
        return 201, ok(checkout, "Payment created; open Razorpay Checkout with gatewayOrderId")

    return await run_once(f"payments.create:{actor.id}", key, body, work)


@router.post("/api/payments/verify", responses=responses(400, 404, 422))
async def verify_payment(body: CheckoutResult, actor: CurrentActor) -> Envelope[PaymentRead]:
    """Verify Razorpay Checkout's signed result; on success the money is held in escrow."""
    payment = await service.verify_checkout(
        actor, body.razorpay_order_id, body.razorpay_payment_id, body.razorpay_signature
    )
    return ok(PaymentRead.of(payment, actor), "Payment captured and held in escrow")


TOO_LARGE = {413: {"description": "Body above PAYMENT_WEBHOOK_MAX_BODY_BYTES"}}


@webhook_router.post("/api/payments/webhook", responses={**responses(400), **TOO_LARGE})
async def gateway_webhook(
    request: Request,
    signature: Annotated[str, Header(alias="X-Razorpay-Signature")],
    event_id: Annotated[str, Header(alias="X-Razorpay-Event-Id", max_length=128)],
) -> Envelope[WebhookAck]:
    """Razorpay webhooks (signed; no bearer token). Each event id is applied once.

    Exempt from per-IP limits and blocks (a burst of genuine events is never throttled);
    bodies above PAYMENT_WEBHOOK_MAX_BODY_BYTES get 413; without both headers 422; bad
    signatures get 400 and are counted into one `webhook_bad_signatures` alert per window,
    not audited one by one."""
    outcome = await service.receive_webhook(await request.body(), signature, event_id)
    return ok(WebhookAck(outcome=outcome))


@router.get("/api/payments", response_model=Envelope[Page[PaymentRead]])
async def list_payments(
    actor: CurrentActor,
    page: Pagination,
    status: PaymentStatus | None = None,
    escrow_status: Annotated[EscrowStatus | None, Query(alias="escrowStatus")] = None,
    payee_id: Annotated[str | None, Query(alias="payeeId", max_length=64)] = None,
    payer_id: Annotated[str | None, Query(alias="payerId", max_length=64)] = None,
) -> Any:
    """Payment history: your own (as payer or payee dealer); admins see all, with filters."""
    filters = {"status": status, "escrow_status": escrow_status, "payee_id": payee_id,
               "payer_id": payer_id}
    payments, next_cursor = await reads.list_payments(actor, page, filters)
    return ok(Page[PaymentRead](items=[PaymentRead.of(p, actor) for p in payments],
                                next_cursor=next_cursor))


@router.get("/api/payments/{paymentId}", response_model=Envelope[PaymentRead],
            responses=responses(404))
async def get_payment(payment_id: PaymentId, actor: CurrentActor) -> Any:
    """One payment: its payer, its payee dealer and admins only."""
    return ok(PaymentRead.of(await service.get_visible(actor, payment_id), actor))


@router.patch("/api/payments/{paymentId}/release", response_model=Envelope[PaymentRead],
              responses={**responses(404, 409, 422),
                         202: {"description": "First approval recorded; a second finance "
                                              "admin must release too"}})
async def release_payment(
    payment_id: PaymentId,
    actor: require(Permission.ESCROW_RELEASE, Permission.ESCROW_OVERRIDE),
    key: IdemKey,
    body: Annotated[ReleaseIn | None, Body()] = None,
) -> Any:
    """Release held escrow to the dealer (finance); the ops leader may override before delivery."""
    body = body or ReleaseIn()

    async def work() -> tuple[int, Envelope[PaymentRead]]:
        outcome = await service.release(actor, payment_id, override=body.override,
                                       reason=body.reason)
        if not outcome.executed:
            return 202, ok(PaymentRead.of(outcome.payment, actor),
                           "First approval recorded; another finance admin must approve")
        return 200, ok(PaymentRead.of(outcome.payment, actor), "Escrow released")

    return await run_once(f"payments.release:{actor.id}:{payment_id}", key, body, work)


@router.patch("/api/payments/{paymentId}/hold", responses=responses(404, 409, 422))
async def hold_payment(
    payment_id: PaymentId, body: HoldIn, actor: require(Permission.ESCROW_HOLD)
) -> Envelope[PaymentRead]:
    """Place or lift a manual hold on held escrow (finance)."""
    payment = await service.set_hold(actor, payment_id, body.hold, body.reason)
    return ok(PaymentRead.of(payment, actor), "Hold placed" if body.hold else "Hold lifted")


@router.post("/api/payments/{paymentId}/refunds", status_code=201,
             response_model=Envelope[RefundRead], responses=responses(404, 409, 422, 502))
async def refund_payment(
    payment_id: PaymentId, body: RefundIn, actor: require(Permission.REFUNDS_ISSUE), key: IdemKey
) -> Any:
    """Refund the buyer in full or in part, never more than captured minus refunded."""

    # The refund's id follows from the key, so a retry after a failure half-way resumes the
    # same refund instead of starting a second one.
    refund_id = "rfd_" + hashlib.sha256(f"{actor.id}:{payment_id}:{key}".encode()).hexdigest()[:24]

    async def work() -> tuple[int, Envelope[RefundRead]]:
        refund = await service.refund(actor, payment_id, body.amount, body.reason,
                                     refund_id=refund_id)
        return 201, ok(RefundRead.model_validate(refund), "Refund issued")

    return await run_once(f"payments.refund:{actor.id}:{payment_id}", key, body, work)


@router.get("/api/admin/ledger/verify", tags=["Admin"])
async def verify_ledger(actor: require(Permission.LEDGER_VERIFY)) -> Envelope[LedgerVerification]:
    """Check every ledger invariant and report the first violation."""
    report = await ledger.verify(await reads.escrow_expectations(),
                                 await reads.refund_in_flight_expectations(),
                                 await reads.captured_payees())
    return ok(LedgerVerification(
        valid=report.valid, checked_transactions=report.checked_transactions,
        first_violation=report.violations[0] if report.violations else None,
        violations=report.violations[:50], checks=list(report.checks),
        receivables_owed=report.receivables_owed,
    ))
