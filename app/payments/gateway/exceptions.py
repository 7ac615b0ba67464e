"""What a gateway call can fail with, independent of the SDK underneath."""

from typing import Any


class GatewayError(Exception):
    """The gateway answered and refused (Razorpay's error object), or answered nonsense."""

    def __init__(
        self,
        description: str,
        *,
        code: str = "BAD_REQUEST_ERROR",
        status_code: int | None = None,
        reason: str | None = None,
        source: str | None = None,
        step: str | None = None,
        field: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.description = description
        self.code = code
        self.status_code = status_code
        self.reason = reason
        self.source = source
        self.step = step
        self.field = field
        self.metadata = metadata or {}
        super().__init__(f"{code}: {description}" if description else code)

    @property
    def is_authentication_failure(self) -> bool:
        return self.status_code == 401


class GatewayUnavailable(GatewayError):
    """No usable answer (network error, timeout, 5xx): the outcome is unknown, retry with the
    same idempotency key or reconcile by fetching."""

    def __init__(self, description: str, *, status_code: int | None = None) -> None:
        super().__init__(description, code="GATEWAY_UNAVAILABLE", status_code=status_code)
