"""The payment gateway: one interface, Razorpay's SDK behind it (real or the sandbox)."""

from app.payments.gateway.base import (
    GatewayOrder,
    GatewayOrderStatus,
    GatewayPayment,
    GatewayPaymentStatus,
    GatewayRefund,
    GatewayRefundStatus,
    Paise,
    PaymentGateway,
)
from app.payments.gateway.exceptions import GatewayError, GatewayUnavailable
from app.payments.gateway.factory import SANDBOX_PATH, create_gateway, gateway_base_url, webhook_url
from app.payments.gateway.razorpay_gateway import RazorpayGateway
from app.payments.gateway.webhooks import WebhookEvent, parse_webhook_event

__all__ = [
    "SANDBOX_PATH",
    "GatewayError",
    "GatewayOrder",
    "GatewayOrderStatus",
    "GatewayPayment",
    "GatewayPaymentStatus",
    "GatewayRefund",
    "GatewayRefundStatus",
    "GatewayUnavailable",
    "Paise",
    "PaymentGateway",
    "RazorpayGateway",
    "WebhookEvent",
    "create_gateway",
    "gateway_base_url",
    "parse_webhook_event",
    "webhook_url",
]
