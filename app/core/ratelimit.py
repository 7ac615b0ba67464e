"""Per-minute request limits by caller class, and temporary blocks of abusive addresses.

Signed-in callers are limited per account at their role's rate; anonymous callers per IP
(auth routes at the public rate). A request that names its device (X-Device-Id) also counts
against that device, at the same rate, so neither a new IP nor a new account resets a device's
budget. An IP that is rate-limited too often is blocked for a while.
Counters live in memory, or in Redis when REDIS_URL is set so every instance shares them.
"""

import math
import time
from collections.abc import Awaitable, Callable

from fastapi import Request
from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from app.core.config import RateLimitSettings, settings
from app.core.context import current_source
from app.core.errors import Forbidden, TooManyRequests
from app.core.security import DEVICE_ID_HEADER, decode_access_token, parse_device_id

AUTH_PATH_PREFIX = "/api/auth/"
# Authenticated by their signature, not by who sends them: a burst of genuine gateway events
# must never be throttled, nor get the gateway's address blocked.
SIGNED_WEBHOOK_PATHS = frozenset({"/api/payments/webhook"})
OnBlocked = Callable[[str], Awaitable[None]]


def client_ip(request: Request) -> str:
    """The address the request context middleware worked out (app/core/client_ip.py)."""
    return current_source().ip or "unknown"


def _storage(redis_url: str | None) -> Storage:
    if not redis_url:
        return MemoryStorage()
    return storage_from_string("async+" + redis_url if "://" in redis_url else redis_url)


class RateLimiter:
    def __init__(self, config: RateLimitSettings, redis_url: str | None, on_blocked: OnBlocked):
        self.config = config
        self.limiter = MovingWindowRateLimiter(_storage(redis_url))
        self.on_blocked = on_blocked
        self.role_limits: dict[str, RateLimitItem] = {
            "public": RateLimitItemPerMinute(config.public),
            "anonymous": RateLimitItemPerMinute(config.customer),
            "customer": RateLimitItemPerMinute(config.customer),
            "dealer": RateLimitItemPerMinute(config.dealer),
            "technician": RateLimitItemPerMinute(config.technician),
            "admin": RateLimitItemPerMinute(config.admin),
        }
        self.violations = RateLimitItemPerSecond(
            config.block_after_violations - 1, config.violation_window_seconds
        )
        self.block = RateLimitItemPerSecond(1, config.block_seconds)

    def _caller(self, request: Request) -> tuple[str, RateLimitItem]:
        """The counter key and the limit that apply to this request."""
        ip = client_ip(request)
        if request.url.path.startswith(AUTH_PATH_PREFIX):
            return f"ip:{ip}", self.role_limits["public"]
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            claims = decode_access_token(
                settings().auth.jwt_secret.get_secret_value(), header[7:].strip()
            )
            if claims and claims.role in self.role_limits:
                return f"user:{claims.sub}", self.role_limits[claims.role]
        return f"ip:{ip}", self.role_limits["anonymous"]

    async def check(self, request: Request) -> None:
        if request.url.path in SIGNED_WEBHOOK_PATHS:
            return
        ip = client_ip(request)
        if not await self.limiter.test(self.block, "blocked", ip):
            raise Forbidden(
                "This address is temporarily blocked after repeated abuse",
                {"retryAfter": await self._retry_after(self.block, "blocked", ip)},
                {"Retry-After": str(await self._retry_after(self.block, "blocked", ip))},
            )
        key, item = self._caller(request)
        keys = [key]
        if device := parse_device_id(request.headers.get(DEVICE_ID_HEADER)):
            keys.append(f"device:{device}")
        refused = None
        for counted in keys:
            if not await self.limiter.hit(item, "rate", counted):
                refused = counted
                break
        if refused is None:
            return
        retry_after = await self._retry_after(item, "rate", refused)
        if not await self.limiter.hit(self.violations, "violations", ip):
            await self.limiter.hit(self.block, "blocked", ip)
            await self.on_blocked(ip)
        raise TooManyRequests("Rate limit exceeded; slow down", retry_after=retry_after)

    async def _retry_after(self, item: RateLimitItem, *identifiers: str) -> int:
        stats = await self.limiter.get_window_stats(item, *identifiers)
        return max(1, math.ceil(stats.reset_time - time.time()))


async def enforce_rate_limit(request: Request) -> None:
    """Router dependency: refuse a malformed X-Device-Id (400), blocked addresses and callers
    over their limit."""
    parse_device_id(request.headers.get(DEVICE_ID_HEADER))
    limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    if limiter is not None and limiter.config.enabled:
        await limiter.check(request)
