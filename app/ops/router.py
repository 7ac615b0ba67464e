"""Liveness, readiness and metrics, outside the `/api` rate limits."""

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response

from app.core.config import Settings
from app.core.errors import error_response
from app.core.schemas import Envelope, ok
from app.ops import service

router = APIRouter(tags=["Health"])
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


@router.get("/health")
async def health() -> Envelope[dict[str, str]]:
    """The process is up."""
    return ok({"status": "up"})


@router.get("/ready", response_model=Envelope[dict[str, Any]],
            responses={503: {"description": "The database (or Redis, when configured) is down"}})
async def ready(request: Request) -> Any:
    """Ready to serve: the database answers, and Redis when `REDIS_URL` is set; also lists
    each background job's lease (holder and expiry)."""
    is_ready, report = await service.readiness(request.app.state.settings)
    if not is_ready:
        return error_response(503, "Not ready", report)
    return ok(report)


@router.get("/metrics", include_in_schema=False)
async def metrics(
    request: Request, authorization: Annotated[str | None, Header()] = None,
) -> Response:
    """Prometheus metrics (text format); a bearer token when METRICS_TOKEN is set."""
    config: Settings = request.app.state.settings
    if not config.metrics_enabled:
        return error_response(404, "Not found")
    if config.metrics_token is not None:
        expected = f"Bearer {config.metrics_token.get_secret_value()}"
        if not _same(authorization or "", expected):
            return error_response(401, "Metrics need the bearer token METRICS_TOKEN",
                                  headers={"WWW-Authenticate": "Bearer"})
    return Response(await service.metrics_text(), media_type=PROMETHEUS_TEXT)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
