"""What every sandbox route shares: the sandbox objects, basic auth with the test keys, the
JSON body as Razorpay reads it, and webhook delivery after the response."""

import json
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from starlette.background import BackgroundTask

from app.sandbox.errors import authentication_failed, invalid
from app.sandbox.payouts import RazorpayXSandbox
from app.sandbox.service import RazorpaySandbox
from app.sandbox.store import WebhookEventRecord

_basic_auth = HTTPBasic(auto_error=False, description="Razorpay key id and key secret")


def _sandbox(request: Request) -> RazorpaySandbox:
    return request.app.state.sandbox


def _payouts(request: Request) -> RazorpayXSandbox:
    return request.app.state.payouts


Sandbox = Annotated[RazorpaySandbox, Depends(_sandbox)]
PayoutsSandbox = Annotated[RazorpayXSandbox, Depends(_payouts)]


async def authenticate(
    sandbox: Sandbox, credentials: Annotated[HTTPBasicCredentials | None, Depends(_basic_auth)]
) -> None:
    if credentials is None:
        raise authentication_failed("Please provide your api key for authentication purposes.")
    if not sandbox.credentials_match(credentials.username, credentials.password):
        raise authentication_failed("Authentication failed")


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise invalid("The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    return body


Body = Annotated[dict[str, Any], Depends(_json_body)]


def request_schema(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties, "required": required or []}
    return {"requestBody": {"content": {"application/json": {"schema": schema}}}}


NOTES = {"type": "object", "additionalProperties": {"type": "string"}, "maxProperties": 15}


def deliver_later(sandbox: RazorpaySandbox, events: list[WebhookEventRecord]) -> BackgroundTask | None:
    return BackgroundTask(sandbox.dispatcher.deliver_in_order, events) if events else None


def with_webhooks(
    sandbox: RazorpaySandbox, entity: dict[str, Any], events: list[WebhookEventRecord]
) -> JSONResponse:
    return JSONResponse(entity, background=deliver_later(sandbox, events))
