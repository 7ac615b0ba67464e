"""The payment gateway interface the platform codes against; money in integer paise."""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

Paise = int


class GatewayOrderStatus(StrEnum):
    CREATED = "created"
    ATTEMPTED = "attempted"
    PAID = "paid"


class GatewayPaymentStatus(StrEnum):
    CREATED = "created"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    REFUNDED = "refunded"
    FAILED = "failed"


class GatewayRefundStatus(StrEnum):
    PENDING = "pending"
    PROCESSED = "processed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class GatewayOrder:
    id: str
    amount: Paise
    currency: str
    receipt: str | None
    status: GatewayOrderStatus
    amount_paid: Paise = 0
    attempts: int = 0
    notes: dict[str, str] = field(default_factory=dict)
    created_at: int | None = None


@dataclass(frozen=True, slots=True)
class GatewayPayment:
    id: str
    order_id: str | None
    amount: Paise
    currency: str
    status: GatewayPaymentStatus
    amount_refunded: Paise = 0
    captured: bool = False
    error_code: str | None = None
    error_description: str | None = None
    error_reason: str | None = None
    method: str | None = None
    notes: dict[str, str] = field(default_factory=dict)
    created_at: int | None = None

    @property
    def refundable(self) -> Paise:
        return self.amount - self.amount_refunded if self.captured else 0


@dataclass(frozen=True, slots=True)
class GatewayRefund:
    id: str
    payment_id: str
    amount: Paise
    currency: str
    status: GatewayRefundStatus
    notes: dict[str, str] = field(default_factory=dict)
    created_at: int | None = None


class PaymentGateway(Protocol):
    """Razorpay's order → payment → refund model. Errors: GatewayError (refused; `code`,
    `description`, `status_code`) and its subclass GatewayUnavailable (no answer, outcome unknown)."""

    key_id: str
    currency: str

    async def create_order(self, amount: Paise, receipt: str, notes: dict[str, str]) -> GatewayOrder: ...

    async def fetch_order(self, gateway_order_id: str) -> GatewayOrder: ...

    async def fetch_payment(self, gateway_payment_id: str) -> GatewayPayment: ...

    async def fetch_order_payments(self, gateway_order_id: str) -> list[GatewayPayment]:
        """Every payment attempted on the order (to reconcile one whose webhook was missed)."""
        ...

    async def capture(self, gateway_payment_id: str, amount: Paise) -> GatewayPayment: ...

    async def refund(
        self, gateway_payment_id: str, amount: Paise, idempotency_key: str, notes: dict[str, str]
    ) -> GatewayRefund:
        """Refund `amount`; a retry with the same key returns the first refund."""
        ...

    async def fetch_refund(self, gateway_refund_id: str) -> GatewayRefund: ...

    def verify_payment_signature(
        self, gateway_order_id: str, gateway_payment_id: str, signature: str
    ) -> bool:
        """HMAC-SHA256(`order_id|payment_id`, key secret), compared in constant time."""
        ...

    def verify_webhook_signature(self, raw_body: bytes, signature: str) -> bool:
        """HMAC-SHA256(raw body, webhook secret), compared in constant time."""
        ...
