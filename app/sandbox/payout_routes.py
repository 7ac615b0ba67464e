"""RazorpayX's Payouts REST routes in the sandbox (same JSON, basic auth and error object),
and the control that settles a payout as the bank would."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask

from app.sandbox.deps import NOTES, Body, PayoutsSandbox, Sandbox, authenticate, deliver_later
from app.sandbox.deps import request_schema as schema
from app.sandbox.payouts import IDEMPOTENCY_HEADER, PayoutOutcome

api = APIRouter(prefix="/v1", dependencies=[Depends(authenticate)], tags=["RazorpayX API v1"])


def _created(entity: dict[str, Any], new: bool) -> JSONResponse:
    return JSONResponse(entity, status_code=201 if new else 200)


@api.post("/contacts", openapi_extra=schema({
    "name": {"type": "string", "maxLength": 50}, "email": {"type": "string"},
    "contact": {"type": "string"}, "type": {"type": "string", "enum": ["vendor", "customer",
                                                                       "employee", "self"]},
    "reference_id": {"type": "string", "maxLength": 40}, "notes": NOTES,
}, ["name"]))
async def create_contact(payouts: PayoutsSandbox, body: Body) -> JSONResponse:
    """Create a contact (201), or answer an identical existing one (200)."""
    return _created(*await payouts.create_contact(body))


@api.get("/contacts/{contact_id}")
async def fetch_contact(payouts: PayoutsSandbox, contact_id: str) -> dict[str, Any]:
    """Fetch a contact."""
    return await payouts.get_contact(contact_id)


@api.post("/fund_accounts", openapi_extra=schema({
    "contact_id": {"type": "string"},
    "account_type": {"type": "string", "enum": ["bank_account"]},
    "bank_account": {"type": "object", "properties": {
        "name": {"type": "string"}, "ifsc": {"type": "string"},
        "account_number": {"type": "string"}}},
}, ["contact_id", "account_type", "bank_account"]))
async def create_fund_account(payouts: PayoutsSandbox, body: Body) -> JSONResponse:
    """Create a bank-account fund account of a contact (201), or answer an identical one (200)."""
    return _created(*await payouts.create_fund_account(body))


@api.get("/fund_accounts/{fund_account_id}")
async def fetch_fund_account(payouts: PayoutsSandbox, fund_account_id: str) -> dict[str, Any]:
    """Fetch a fund account."""
    return await payouts.get_fund_account(fund_account_id)


@api.post("/payouts", openapi_extra=schema({
    "account_number": {"type": "string", "description": "Your RazorpayX business account"},
    "fund_account_id": {"type": "string"}, "amount": {"type": "integer", "minimum": 100},
    "currency": {"type": "string", "example": "INR"},
    "mode": {"type": "string", "enum": ["IMPS", "NEFT", "RTGS"]},
    "purpose": {"type": "string", "example": "payout"},
    "queue_if_low_balance": {"type": "boolean"},
    "reference_id": {"type": "string", "maxLength": 40},
    "narration": {"type": "string", "maxLength": 30}, "notes": NOTES,
}, ["account_number", "fund_account_id", "amount", "currency", "mode", "purpose"]))
async def create_payout(
    payouts: PayoutsSandbox,
    body: Body,
    key: Annotated[str | None, Header(alias=IDEMPOTENCY_HEADER)] = None,
) -> JSONResponse:
    """Create a payout once per `X-Payout-Idempotency` key (the same key and body answer the
    first payout, in its current status)."""
    payout, new = await payouts.create_payout(body, key)
    background = None
    if new and payouts.auto_process_payouts:
        background = BackgroundTask(payouts.settle_automatically, payout["id"])
    return JSONResponse(payout, background=background)


@api.get("/payouts/{payout_id}")
async def fetch_payout(payouts: PayoutsSandbox, payout_id: str) -> dict[str, Any]:
    """Fetch a payout in its current status."""
    return await payouts.get_payout(payout_id)


class SettlePayoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    outcome: PayoutOutcome = Field(description="processed: the money arrived; reversed or "
                                   "failed: it came back to the business account")
    description: str | None = Field(default=None, max_length=200,
                                    description="The reason shown in status_details")
    deliver_webhook: bool = Field(
        default=True, alias="deliverWebhook",
        description="false records the webhook event without sending it (a lost webhook)",
    )


controls = APIRouter(tags=["Sandbox controls"])


@controls.post("/payouts/{payout_id}/settle")
async def settle_payout(
    sandbox: Sandbox, payouts: PayoutsSandbox, payout_id: str, body: SettlePayoutIn
) -> JSONResponse:
    """Finish a processing payout (when automatic processing is off) as processed, reversed
    or failed, and send the matching signed webhook."""
    payout, events = await payouts.settle(payout_id, body.outcome, body.description)
    background = deliver_later(sandbox, events) if body.deliver_webhook else None
    return JSONResponse(payout, background=background)
