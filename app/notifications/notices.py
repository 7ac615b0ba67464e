"""What each state change tells the user it concerns: one function a kind, with its dedupe key
and its wording, called by the domain that makes the change, in that change's transaction
(`session`). They take plain values, so this package depends on no domain."""

from datetime import datetime
from enum import StrEnum

from app.core.database import Session
from app.notifications.service import notify


class NoticeKind(StrEnum):
    DEALER_APPROVED = "dealer_approved"
    TECHNICIAN_APPROVED = "technician_approved"
    TECHNICIAN_REJECTED = "technician_rejected"
    BUSINESS_VERIFIED = "business_verified"
    BUSINESS_REJECTED = "business_rejected"
    ORDER_SHIPPED = "order_shipped"
    PAYMENT_RELEASED = "payment_released"
    REPAIR_OFFER = "repair_offer"
    CONSENT_REQUESTED = "consent_requested"
    CALL_MISSED = "call_missed"
    PAYOUT_PAID = "payout_paid"


def rupees(paise: int) -> str:
    return f"₹{paise // 100:,}.{paise % 100:02d}"


def _because(reason: str | None) -> str:
    return f": {reason}" if reason else ""


async def dealer_approved(session: Session, *, dealer_id: str, user_id: str) -> None:
    await notify(
        session, key=f"dealer-approved:{dealer_id}", user_id=user_id,
        kind=NoticeKind.DEALER_APPROVED, subject_type="dealer", subject_id=dealer_id,
        message="Your dealer profile was approved: you can now list products and sell.",
    )


async def technician_decided(
    session: Session, *, technician_id: str, user_id: str, approved: bool, reason: str | None,
) -> None:
    """A pending technician profile approved or rejected (each happens at most once)."""
    kind = NoticeKind.TECHNICIAN_APPROVED if approved else NoticeKind.TECHNICIAN_REJECTED
    message = ("Your technician profile was approved: go available to receive repair offers."
               if approved else f"Your technician profile was rejected{_because(reason)}")
    await notify(session, key=f"{kind.value}:{technician_id}", user_id=user_id, kind=kind,
                 subject_type="technician", subject_id=technician_id, message=message)


async def business_decided(
    session: Session, *, user_id: str, verified: bool, reason: str | None, at: datetime,
) -> None:
    """A B2B application verified or rejected; an admin may decide again later, so the key
    holds the decision's time."""
    kind = NoticeKind.BUSINESS_VERIFIED if verified else NoticeKind.BUSINESS_REJECTED
    message = ("Your business was verified: you now buy at B2B prices." if verified
               else f"Your business application was rejected{_because(reason)}")
    await notify(session, key=f"{kind.value}:{user_id}:{at.isoformat()}", user_id=user_id,
                 kind=kind, subject_type="user", subject_id=user_id, message=message)


async def order_shipped(
    session: Session, *, order_id: str, buyer_id: str, carrier: str | None,
    tracking_number: str | None,
) -> None:
    tracking = f" with {carrier}, tracking number {tracking_number}" if carrier else ""
    await notify(
        session, key=f"order-shipped:{order_id}", user_id=buyer_id,
        kind=NoticeKind.ORDER_SHIPPED, subject_type="order", subject_id=order_id,
        message=f"Your order {order_id} has shipped{tracking}.",
    )


async def payment_released(
    session: Session, *, payment_id: str, user_id: str, amount: int, payable_type: str,
    payable_id: str,
) -> None:
    """Escrow released: the dealer's or technician's share is in its payable balance."""
    await notify(
        session, key=f"payment-released:{payment_id}", user_id=user_id,
        kind=NoticeKind.PAYMENT_RELEASED, subject_type="payment", subject_id=payment_id,
        message=f"{rupees(amount)} for {payable_type} {payable_id} was released from escrow to "
                "your payable balance.",
    )


async def repair_offered(
    session: Session, *, repair_id: str, technician_id: str, user_id: str, description: str,
) -> None:
    await notify(
        session, key=f"repair-offer:{repair_id}:{technician_id}", user_id=user_id,
        kind=NoticeKind.REPAIR_OFFER, subject_type="repair", subject_id=repair_id,
        message=f"New {description} repair offered to you. Accept before the offer expires.",
    )


async def consent_requested(
    session: Session, *, consent_id: str, repair_id: str, customer_id: str, asked_by: str,
) -> None:
    await notify(
        session, key=f"consent:{consent_id}:requested", user_id=customer_id,
        kind=NoticeKind.CONSENT_REQUESTED, subject_type="repair", subject_id=repair_id,
        message=f"{asked_by} asks for your consent on repair {repair_id}",
    )


async def call_missed(
    session: Session, *, call_id: str, job_id: str, caller_id: str, callee_id: str,
) -> None:
    """Both parties learn of it: the callee that it was called, the caller that no one
    answered."""
    for user_id, message in (
        (callee_id, f"You missed a call about job {job_id}."),
        (caller_id, f"Your call about job {job_id} was not answered."),
    ):
        await notify(session, key=f"call-missed:{call_id}:{user_id}", user_id=user_id,
                     kind=NoticeKind.CALL_MISSED, subject_type="call", subject_id=call_id,
                     message=message)


async def payout_paid(
    session: Session, *, payout_id: str, user_id: str, amount: int, account_masked: str,
) -> None:
    await notify(
        session, key=f"payout-paid:{payout_id}", user_id=user_id,
        kind=NoticeKind.PAYOUT_PAID, subject_type="payout", subject_id=payout_id,
        message=f"Payout of {rupees(amount)} to account {account_masked} was paid.",
    )
