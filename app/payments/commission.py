"""Commission: the dealer tier's rate in basis points of the subtotal, rounded half-up."""

from app.payments.models import CommissionBreakdown

BPS = 10_000


def commission_of(subtotal: int, rate_bps: int) -> int:
    # Integer half-up rounding: floor((2·x·r + BPS) / (2·BPS)); no floats near money.
    return (2 * subtotal * rate_bps + BPS) // (2 * BPS)


def breakdown(
    subtotal: int, delivery_charge: int, service_fee: int, rate_bps: int, refunded: int = 0
) -> CommissionBreakdown:
    """How the money still in escrow splits on release.

    Refunds reduce the subtotal that commission is charged on; the platform's share can
    never exceed what is left in escrow.
    """
    remaining = subtotal + delivery_charge + service_fee - refunded
    commission = commission_of(max(subtotal - refunded, 0), rate_bps)
    platform_share = min(remaining, commission + service_fee)
    return CommissionBreakdown(
        rate_bps=rate_bps,
        commission=commission,
        dealer_share=remaining - platform_share,
        platform_share=platform_share,
    )


def _half_up_share(amount: int, part: int, whole: int) -> int:
    """amount × part / whole, rounded half-up to the paisa, in integers."""
    return (2 * amount * part + whole) // (2 * whole)


def refund_after_release_split(
    amount: int, released: int, platform_share: int, refunded_before: int,
    platform_refunded_before: int,
) -> tuple[int, int]:
    """(dealer part, platform part) of a refund of `amount` after a release of `released`
    that paid the platform `platform_share`: pro rata, half-up to the paisa.

    Worked out on the running total refunded after release, so partial refunds that add up
    to the whole release take back exactly the platform share and never a paisa more
    (Razorpay Route's transfer reversals, Stripe's `refund_application_fee`)."""
    if released <= 0:
        return amount, 0
    owed_after = _half_up_share(min(refunded_before + amount, released), platform_share, released)
    platform = owed_after - platform_refunded_before
    platform = max(0, min(platform, amount, platform_share - platform_refunded_before))
    return amount - platform, platform
