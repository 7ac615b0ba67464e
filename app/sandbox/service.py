"""What the sandbox does: Razorpay's order → payment → refund rules, checkout played by a test
buyer, and the webhook events each change causes (returned, for the caller to deliver)."""

import json
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

from app.payments.gateway.signatures import payment_signature
from app.sandbox.errors import RazorpayApiError, invalid, no_such_id, not_allowed
from app.sandbox.rules import (
    CAPTURE_FIELDS,
    FAILED_PAYMENT_FIELDS,
    IDEMPOTENCY_KEY,
    ORDER_FIELDS,
    PAYMENT_EVENTS,
    REFUND_EVENTS,
    REFUND_FIELDS,
    amount_of,
    collection,
    fee_of,
    notes_of,
    public,
    refuse_unknown,
)
from app.sandbox.store import Entity, RefundKey, SandboxStore, WebhookEventRecord
from app.sandbox.webhooks import WebhookDispatcher, now_ts, random_id

CheckoutOutcome = Literal["success", "failure", "authorized"]
RefundOutcome = Literal["processed", "failed"]

@dataclass
class CheckoutResult:
    order: Entity
    payment: Entity
    signature: str | None
    events: list[WebhookEventRecord] = field(default_factory=list)

    def failure(self) -> RazorpayApiError:
        """What Checkout's `payment.failed` handler receives."""
        return RazorpayApiError(
            "Payment failed", source="customer", step="payment_authorization",
            reason="payment_failed",
            metadata={"order_id": self.order["id"], "payment_id": self.payment["id"]},
        )


class RazorpaySandbox:
    def __init__(
        self,
        key_id: str,
        key_secret: str,
        store: SandboxStore,
        dispatcher: WebhookDispatcher,
        currency: str = "INR",
    ) -> None:
        self.key_id = key_id
        self._key_secret = key_secret
        self.store = store
        self.dispatcher = dispatcher
        self.currency = currency
        # False: refunds stay `pending` until settled through the control route.
        self.auto_process_refunds = True

    def credentials_match(self, key_id: str, key_secret: str) -> bool:
        return secrets.compare_digest(key_id.encode(), self.key_id.encode()) & secrets.compare_digest(
            key_secret.encode(), self._key_secret.encode()
        )

    # --- Razorpay REST (v1) ---------------------------------------------------------------

    async def create_order(self, body: dict[str, Any]) -> Entity:
        refuse_unknown(body, ORDER_FIELDS)
        amount = amount_of(body.get("amount"))
        currency = body.get("currency")
        if currency is None:
            raise invalid("The currency field is required.", "currency")
        if currency != self.currency:
            raise invalid("The selected currency is invalid.", "currency")
        receipt = body.get("receipt")
        if receipt is not None and (not isinstance(receipt, str) or len(receipt) > 40):
            raise invalid("The receipt may not be greater than 40 characters.", "receipt")
        capture = body.get("payment_capture", 1)
        if capture not in (0, 1, True, False, "0", "1"):
            raise invalid("The payment capture field is invalid.", "payment_capture")
        order = {
            "id": random_id("order_"),
            "entity": "order",
            "amount": amount,
            "amount_paid": 0,
            "amount_due": amount,
            "currency": currency,
            "receipt": receipt,
            "offer_id": None,
            "status": "created",
            "attempts": 0,
            "notes": notes_of(body.get("notes")),
            "created_at": now_ts(),
            "_payment_capture": capture in (1, True, "1"),
        }
        await self.store.put("order", order)
        return public(order)

    async def get_order(self, order_id: str) -> Entity:
        return public(await self._order(order_id))

    async def order_payments(self, order_id: str) -> Entity:
        await self._order(order_id)
        return collection(await self.store.find("payment", "order_id", order_id))

    async def get_payment(self, payment_id: str) -> Entity:
        return public(await self._payment(payment_id))

    async def capture(self, payment_id: str, body: dict[str, Any]) -> tuple[Entity, list[WebhookEventRecord]]:
        refuse_unknown(body, CAPTURE_FIELDS)
        amount = amount_of(body.get("amount"))
        async with self.store.locked():
            payment = await self._payment(payment_id)
            if payment["status"] in ("captured", "refunded"):
                raise not_allowed("This payment has already been captured")
            if payment["status"] != "authorized":
                raise not_allowed(
                    "Only payments which have been authorized and not yet captured can be captured"
                )
            if amount != payment["amount"]:
                raise invalid("Capture amount must be equal to the amount authorized", "amount")
            currency = body.get("currency")
            if currency is not None and currency != payment["currency"]:
                raise invalid("The currency should be same as the payment currency", "currency")
            self._mark_captured(payment)
            await self.store.put("payment", payment)
            if payment.get("order_id"):
                order = await self._order(payment["order_id"])
                self._mark_paid(order, payment)
                await self.store.put("order", order)
            event = await self.dispatcher.record("payment.captured", {"payment": public(payment)})
        return public(payment), [event]

    async def refund(
        self, payment_id: str, body: dict[str, Any], idempotency_key: str | None
    ) -> tuple[Entity, list[WebhookEventRecord]]:
        refuse_unknown(body, REFUND_FIELDS)
        if idempotency_key is not None and not IDEMPOTENCY_KEY.fullmatch(idempotency_key):
            raise invalid("The idempotency key is invalid.", "X-Refund-Idempotency")
        fingerprint = json.dumps({"payment_id": payment_id, "body": body}, sort_keys=True)
        async with self.store.locked():
            payment = await self._payment(payment_id)
            if idempotency_key is not None:
                previous = await self.store.get_refund_key(idempotency_key)
                if previous is not None:
                    if previous.fingerprint != fingerprint:
                        raise invalid(
                            "Different request body sent for the same idempotency key",
                            "X-Refund-Idempotency",
                        )
                    return public(await self._refund(previous.refund_id)), []
            if payment["status"] not in ("captured", "refunded"):
                raise not_allowed("Only captured payments can be refunded")
            remaining = payment["amount"] - payment["amount_refunded"]
            if remaining <= 0:
                raise not_allowed("The payment has been fully refunded already")
            amount = amount_of(body.get("amount", remaining))
            if amount > remaining:
                raise invalid("The total refund amount is greater than the refund payment amount", "amount")
            speed = body.get("speed", "normal")
            if speed not in ("normal", "optimum"):
                raise invalid("The selected speed is invalid.", "speed")
            refund = {
                "id": random_id("rfnd_"),
                "entity": "refund",
                "amount": amount,
                "currency": payment["currency"],
                "payment_id": payment_id,
                "notes": notes_of(body.get("notes")),
                "receipt": body.get("receipt"),
                "acquirer_data": {"arn": None},
                "created_at": now_ts(),
                "batch_id": None,
                "status": "pending",
                "speed_processed": "normal",
                "speed_requested": speed,
            }
            self._apply_refund(payment, amount)
            events: list[WebhookEventRecord] = []
            if self.auto_process_refunds:
                refund["status"] = "processed"
                refund["acquirer_data"] = {"arn": random_id(length=12).upper()}
                events.append(
                    await self.dispatcher.record(
                        "refund.processed", {"refund": public(refund), "payment": public(payment)}
                    )
                )
            await self.store.put("payment", payment)
            await self.store.put("refund", refund)
            if idempotency_key is not None:
                await self.store.put_refund_key(idempotency_key, RefundKey(fingerprint, refund["id"]))
        return public(refund), events

    async def payment_refunds(self, payment_id: str, count: int = 10, skip: int = 0) -> Entity:
        await self._payment(payment_id)
        refunds = await self.store.find("refund", "payment_id", payment_id)
        refunds.sort(key=lambda refund: refund["created_at"], reverse=True)
        return collection(refunds[skip : skip + count])

    async def get_refund(self, refund_id: str, payment_id: str | None = None) -> Entity:
        refund = await self._refund(refund_id)
        if payment_id is not None and refund["payment_id"] != payment_id:
            raise no_such_id()
        return public(refund)

    # --- the sandbox's own controls --------------------------------------------------------

    async def checkout(self, order_id: str, outcome: CheckoutOutcome) -> CheckoutResult:
        """The buyer pays (or fails to pay) the whole order, as Razorpay Checkout would."""
        async with self.store.locked():
            order = await self._order(order_id)
            if order["status"] == "paid":
                raise not_allowed("Order has already been paid", reason="order_already_paid")
            payment = self._new_payment(order, failed=outcome == "failure")
            order["attempts"] += 1
            order["status"] = "attempted"
            events: list[WebhookEventRecord] = []
            if outcome == "failure":
                events.append(await self.dispatcher.record("payment.failed", {"payment": public(payment)}))
            elif outcome == "success" and order["_payment_capture"]:
                self._mark_captured(payment)
                self._mark_paid(order, payment)
                events.append(await self.dispatcher.record("payment.captured", {"payment": public(payment)}))
            else:
                events.append(
                    await self.dispatcher.record("payment.authorized", {"payment": public(payment)})
                )
            await self.store.put("payment", payment)
            await self.store.put("order", order)
        signature = None
        if outcome != "failure":
            signature = payment_signature(order["id"], payment["id"], self._key_secret)
        return CheckoutResult(public(order), public(payment), signature, events)

    async def settle_refund(
        self, refund_id: str, outcome: RefundOutcome
    ) -> tuple[Entity, list[WebhookEventRecord]]:
        """The bank's answer to a pending refund: processed, or failed (the amount is refundable again)."""
        async with self.store.locked():
            refund = await self._refund(refund_id)
            if refund["status"] != "pending":
                raise not_allowed(f"The refund is already {refund['status']}")
            payment = await self._payment(refund["payment_id"])
            refund["status"] = outcome
            if outcome == "processed":
                refund["acquirer_data"] = {"arn": random_id(length=12).upper()}
            else:
                self._apply_refund(payment, -refund["amount"])
                await self.store.put("payment", payment)
            await self.store.put("refund", refund)
            event = await self.dispatcher.record(
                f"refund.{outcome}", {"refund": public(refund), "payment": public(payment)}
            )
        return public(refund), [event]

    async def event_for(
        self, event: str, payment_id: str | None = None, refund_id: str | None = None
    ) -> WebhookEventRecord:
        """A signed event about an existing entity, shown in the state the event announces (the
        stored entity does not change): late, duplicate or out-of-order deliveries on demand."""
        if event in PAYMENT_EVENTS:
            if not payment_id:
                raise invalid(f"paymentId is required for {event}", "paymentId")
            payment = public(await self._payment(payment_id))
            if event == "payment.failed":
                payment.update(status="failed", captured=False, **FAILED_PAYMENT_FIELDS)
            elif event == "payment.authorized":
                payment.update(status="authorized", captured=False)
            else:
                payment.update(status="captured", captured=True)
            entities: dict[str, Entity] = {"payment": payment}
            if event == "order.paid":
                if not payment.get("order_id"):
                    raise not_allowed("The payment has no order")
                order = public(await self._order(payment["order_id"]))
                order.update(status="paid", amount_paid=order["amount"], amount_due=0)
                entities["order"] = order
            return await self.dispatcher.record(event, entities)
        if event in REFUND_EVENTS:
            if not refund_id:
                raise invalid(f"refundId is required for {event}", "refundId")
            refund = public(await self._refund(refund_id))
            if event != "refund.created":
                refund["status"] = event.removeprefix("refund.")
            payment = public(await self._payment(refund["payment_id"]))
            return await self.dispatcher.record(event, {"refund": refund, "payment": payment})
        raise invalid(f"Unsupported event: {event}", "event")

    # --- helpers ---------------------------------------------------------------------------

    async def _order(self, order_id: str) -> Entity:
        order = await self.store.get("order", order_id)
        if order is None:
            raise no_such_id()
        return order

    async def _payment(self, payment_id: str) -> Entity:
        payment = await self.store.get("payment", payment_id)
        if payment is None:
            raise no_such_id()
        return payment

    async def _refund(self, refund_id: str) -> Entity:
        refund = await self.store.get("refund", refund_id)
        if refund is None:
            raise no_such_id()
        return refund

    def _new_payment(self, order: Entity, failed: bool) -> Entity:
        payment: Entity = {
            "id": random_id("pay_"),
            "entity": "payment",
            "amount": order["amount"],
            "currency": order["currency"],
            "status": "failed" if failed else "authorized",
            "order_id": order["id"],
            "invoice_id": None,
            "international": False,
            "method": "upi",
            "amount_refunded": 0,
            "refund_status": None,
            "captured": False,
            "description": "Sandbox Checkout payment",
            "card_id": None,
            "bank": None,
            "wallet": None,
            "vpa": "failure@razorpay" if failed else "success@razorpay",
            "email": "buyer@example.com",
            "contact": "+919000090000",
            "notes": [],
            "fee": None,
            "tax": None,
            "error_code": None,
            "error_description": None,
            "error_source": None,
            "error_step": None,
            "error_reason": None,
            "acquirer_data": {"rrn": None if failed else str(secrets.randbelow(10**12)).zfill(12)},
            "created_at": now_ts(),
        }
        if failed:
            payment.update(FAILED_PAYMENT_FIELDS)
        return payment

    @staticmethod
    def _mark_captured(payment: Entity) -> None:
        fee, tax = fee_of(payment["amount"])
        payment.update(status="captured", captured=True, fee=fee, tax=tax)

    @staticmethod
    def _mark_paid(order: Entity, payment: Entity) -> None:
        order.update(status="paid", amount_paid=payment["amount"], amount_due=0)

    @staticmethod
    def _apply_refund(payment: Entity, amount: int) -> None:
        payment["amount_refunded"] += amount
        refunded = payment["amount_refunded"]
        if refunded <= 0:
            payment.update(status="captured", refund_status=None)
        elif refunded >= payment["amount"]:
            payment.update(status="refunded", refund_status="full")
        else:
            payment.update(status="captured", refund_status="partial")
