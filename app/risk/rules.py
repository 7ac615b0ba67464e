"""The rules themselves: each judges figures its caller read with one indexed query.

Counts are of what happened before the event being judged, so a limit of N lets the N-th
event through and fires on the one after."""

from datetime import datetime, timedelta

from app.core.config_risk import RiskSettings
from app.risk.models import Flag, RiskRule


def order_velocity(
    settings: RiskSettings, account_orders: int, device_orders: int | None,
    ip_orders: int | None,
) -> Flag | None:
    """Orders of the last hour by the account, its device and its address (None: unknown)."""
    over = {
        name: {"orders": count, "limit": limit}
        for name, count, limit in (
            ("account", account_orders, settings.order_velocity_per_hour),
            ("device", device_orders, settings.device_order_velocity_per_hour),
            ("ip", ip_orders, settings.ip_order_velocity_per_hour),
        )
        if count is not None and count >= limit
    }
    return Flag(RiskRule.ORDER_VELOCITY, over) if over else None


def first_order_high_value(settings: RiskSettings, ordered_before: bool, total: int) -> Flag | None:
    if ordered_before or total <= settings.first_order_high_value:
        return None
    return Flag(RiskRule.FIRST_ORDER_HIGH_VALUE,
                {"total": total, "limit": settings.first_order_high_value})


def payment_failures(settings: RiskSettings, failures_last_hour: int) -> Flag | None:
    if failures_last_hour < settings.payment_failures_per_hour:
        return None
    return Flag(RiskRule.PAYMENT_FAILURES,
                {"failures": failures_last_hour, "limit": settings.payment_failures_per_hour})


def refund_ratio(settings: RiskSettings, paid: int, refunded: int) -> Flag | None:
    """`paid` and `refunded` payments of the buyer, the one being refunded among both."""
    if paid < settings.refund_ratio_min_payments:
        return None
    if refunded * 100 < settings.refund_ratio_percent * paid:
        return None
    return Flag(RiskRule.REFUND_RATIO, {"paid": paid, "refunded": refunded,
                                        "limitPercent": settings.refund_ratio_percent})


def price_far_below_median(
    settings: RiskSettings, price: int, median: int | None, listings: int
) -> Flag | None:
    """`median` of the category's active listings' prices, over `listings` of them."""
    if median is None or listings < settings.price_median_min_listings:
        return None
    if price * 100 >= settings.price_below_median_percent * median:
        return None
    return Flag(RiskRule.PRICE_FAR_BELOW_MEDIAN,
                {"price": price, "median": median, "listings": listings,
                 "limitPercent": settings.price_below_median_percent})


def payout_account_changed(
    settings: RiskSettings, replaced_paid_account: bool, registered_at: datetime, now: datetime
) -> Flag | None:
    """Money redirected: the account replaced one the recipient was being paid to, this
    recently (the sign of a taken-over login). A first account is no change, and replacing one
    that never received a payout is a correction (say, after the bank rejected it)."""
    window = timedelta(hours=settings.payout_account_changed_hours)
    if not replaced_paid_account or registered_at <= now - window:
        return None
    return Flag(RiskRule.PAYOUT_ACCOUNT_CHANGED,
                {"registeredAt": registered_at.isoformat(),
                 "windowHours": settings.payout_account_changed_hours})
