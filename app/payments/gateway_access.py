"""The gateway of the running app's settings (the sandbox by default)."""

from app.core.config import Settings, settings
from app.payments.gateway.base import PaymentGateway
from app.payments.gateway.factory import create_gateway

_current: tuple[Settings, PaymentGateway] | None = None


def gateway() -> PaymentGateway:
    global _current
    config = settings()
    if _current is None or _current[0] is not config:
        _current = (config, create_gateway(config))
    return _current[1]
