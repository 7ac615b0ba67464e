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
