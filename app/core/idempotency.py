"""Idempotency keys: a retried request gets the first response, and its work runs once.

The first request with a key claims it (a unique insert) before doing the work, so two
concurrent requests with the same key cannot both run it; the second is told to retry.
A failed request (5xx or an unexpected error) frees the key; a 4xx answer is kept, as
Stripe does, since retrying the same body would fail the same way.
"""

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from beanie import Document
from fastapi import Header
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import Field
from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from app.core import clock
from app.core.context import current_trace_id
from app.core.errors import AppError, Conflict, RuleViolation, envelope

KEY_TTL = timedelta(hours=24)
IdempotencyKey = Header(
    alias="Idempotency-Key", min_length=8, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$",
    description="Unique per intended operation; a retry with the same key returns the first result",
)


class IdempotencyRecord(Document):
    id: str
    fingerprint: str
    status_code: int | None = None
    body: dict[str, Any] | None = None
    created_at: datetime = Field(default_factory=clock.utcnow)

    class Settings:
        name = "idempotency_keys"
        indexes = [IndexModel([("created_at", ASCENDING)], expireAfterSeconds=int(KEY_TTL.total_seconds()))]


class RequestInProgress(Conflict):
    default_message = "A request with this Idempotency-Key is still being processed; retry shortly"


class KeyReused(RuleViolation):
    default_message = "This Idempotency-Key was used with a different request"


def fingerprint(payload: Any) -> str:
    canonical = json.dumps(jsonable_encoder(payload), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def run_once(
    scope: str,
    key: str,
    payload: Any,
    work: Callable[[], Awaitable[tuple[int, Any]]],
) -> JSONResponse:
    """Run `work` (returning status code and envelope) once per (scope, key).

    `scope` names the operation and the caller (e.g. `payments.create:usr_1`), so one
    caller's keys never collide with another's.
    """
    record_id, print_ = f"{scope}:{key}", fingerprint(payload)
    records = IdempotencyRecord.get_pymongo_collection()
    try:
        await records.insert_one({"_id": record_id, "fingerprint": print_, "created_at": clock.utcnow()})
    except DuplicateKeyError:
        return await _replay(record_id, print_)
    try:
        status_code, body = await work()
    except AppError as error:
        status_code, body = error.status_code, envelope(False, error.message, error.data)
        if status_code >= 500:
            await records.delete_one({"_id": record_id})
            raise
        await _remember(record_id, status_code, body)
        raise
    except BaseException:
        await records.delete_one({"_id": record_id})
        raise
    encoded = jsonable_encoder(body, by_alias=True)
    await _remember(record_id, status_code, encoded)
    return JSONResponse(encoded, status_code=status_code)


async def _remember(record_id: str, status_code: int, body: Any) -> None:
    await IdempotencyRecord.get_pymongo_collection().update_one(
        {"_id": record_id}, {"$set": {"status_code": status_code, "body": jsonable_encoder(body)}}
    )


async def _replay(record_id: str, print_: str) -> JSONResponse:
    stored = await IdempotencyRecord.get_pymongo_collection().find_one({"_id": record_id})
    if stored is None:
        raise RequestInProgress
    if stored["fingerprint"] != print_:
        raise KeyReused
    if stored.get("status_code") is None:
        raise RequestInProgress
    # The first answer, in this exchange's envelope: its traceId is this request's (the one
    # in X-Request-ID and in this request's log lines), never the first request's.
    body = stored["body"]
    if isinstance(body, dict) and "traceId" in body:
        body = {**body, "traceId": current_trace_id()}
    return JSONResponse(body, status_code=stored["status_code"],
                        headers={"Idempotent-Replayed": "true"})
