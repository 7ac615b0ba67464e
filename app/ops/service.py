"""Readiness checks and the scrape-time figures of `/metrics`."""

import asyncio
from typing import Any

import redis.asyncio as redis
from prometheus_client import generate_latest

from app.core import clock, leases
from app.core.config import Settings
from app.core.database import get_database
from app.core.metrics import (
    ESCROW_HELD_PAISE,
    ESCROW_HELD_PAYMENTS,
    PAYMENTS,
    REGISTRY,
    SOCKETIO_CONNECTIONS,
)
from app.core.permissions import SYSTEM_ACTOR
from app.payments import reads as payments_reads
from app.realtime.events import connection_count

CHECK_TIMEOUT_SECONDS = 2.0


async def _database_up() -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await get_database().ping()
    except Exception:
        return False
    return True


async def _redis_up(url: str) -> bool:
    client = redis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT_SECONDS)
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            return bool(await client.ping())
    except Exception:
        return False
    finally:
        await client.aclose()


async def readiness(config: Settings) -> tuple[bool, dict[str, Any]]:
    """(ready, report): ready while the database (and Redis, when configured) answer. The
    report also lists each background job's lease: who holds it and until when."""
    database = await _database_up()
    report: dict[str, Any] = {"database": "up" if database else "down"}
    ready = database
    if config.redis_url:
        redis_ok = await _redis_up(config.redis_url)
        report["redis"] = "up" if redis_ok else "down"
        ready = ready and redis_ok
    if database:
        now = clock.utcnow()
        report["jobLeases"] = [
            {"job": lease.id, "holder": lease.holder, "expiresAt": lease.expires_at.isoformat(),
             "live": lease.expires_at > now}
            for lease in await leases.all_leases()
        ]
    report["status"] = "ready" if ready else "unavailable"
    return ready, report


async def metrics_text() -> bytes:
    """The Prometheus exposition, the business gauges refreshed first (indexed counts)."""
    for status, count in (await payments_reads.count_by_status()).items():
        PAYMENTS.labels(status).set(count)
    held_payments, held_paise = await payments_reads.escrow_held(SYSTEM_ACTOR)
    ESCROW_HELD_PAYMENTS.set(held_payments)
    ESCROW_HELD_PAISE.set(held_paise)
    SOCKETIO_CONNECTIONS.set(connection_count())
    return generate_latest(REGISTRY)
