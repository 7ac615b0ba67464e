"""Each fraud rule fires at its limit and stays quiet just under it (default settings)."""

from datetime import UTC, datetime, timedelta

from app.core.config_risk import RiskSettings
from app.risk import rules
from app.risk.models import RiskRule

LIMITS = RiskSettings()
NOW = datetime(2026, 1, 10, 12, tzinfo=UTC)


def test_order_velocity_counts_account_device_and_address_against_their_own_limits():
    account, device, ip = (LIMITS.order_velocity_per_hour, LIMITS.device_order_velocity_per_hour,
                           LIMITS.ip_order_velocity_per_hour)
    assert (account, device, ip) == (10, 30, 200)  # the pinned defaults
    assert rules.order_velocity(LIMITS, account - 1, device - 1, ip - 1) is None
    assert rules.order_velocity(LIMITS, account - 1, None, None) is None
    fired = rules.order_velocity(LIMITS, account, device - 1, ip)
    assert fired is not None and fired.rule is RiskRule.ORDER_VELOCITY
    assert fired.detail == {"account": {"orders": account, "limit": account},
                            "ip": {"orders": ip, "limit": ip}}
    only_device = rules.order_velocity(LIMITS, 0, device, None)
    assert only_device is not None and set(only_device.detail) == {"device"}


def test_first_order_high_value_fires_only_on_a_first_order_above_the_limit():
    limit = LIMITS.first_order_high_value
    assert rules.first_order_high_value(LIMITS, False, limit) is None
    assert rules.first_order_high_value(LIMITS, True, limit + 1) is None
    fired = rules.first_order_high_value(LIMITS, False, limit + 1)
    assert fired is not None and fired.rule is RiskRule.FIRST_ORDER_HIGH_VALUE
    assert fired.detail == {"total": limit + 1, "limit": limit}


def test_payment_failures_fire_at_the_hourly_limit():
    limit = LIMITS.payment_failures_per_hour
    assert rules.payment_failures(LIMITS, limit - 1) is None
    fired = rules.payment_failures(LIMITS, limit)
    assert fired is not None and fired.rule is RiskRule.PAYMENT_FAILURES


def test_refund_ratio_needs_enough_payments_and_a_share_at_the_limit():
    least, percent = LIMITS.refund_ratio_min_payments, LIMITS.refund_ratio_percent
    assert (least, percent) == (4, 50)
    assert rules.refund_ratio(LIMITS, least - 1, least - 1) is None  # too few to judge
    assert rules.refund_ratio(LIMITS, 10, 4) is None  # 40 %
    fired = rules.refund_ratio(LIMITS, 10, 5)
    assert fired is not None and fired.rule is RiskRule.REFUND_RATIO
    assert fired.detail == {"paid": 10, "refunded": 5, "limitPercent": 50}


def test_price_far_below_median_needs_a_trusted_median():
    listings = LIMITS.price_median_min_listings
    floor = 100_000 * LIMITS.price_below_median_percent // 100  # 20 % of the median
    assert rules.price_far_below_median(LIMITS, floor, 100_000, listings) is None
    assert rules.price_far_below_median(LIMITS, floor - 1, 100_000, listings - 1) is None
    assert rules.price_far_below_median(LIMITS, 1, None, 0) is None
    fired = rules.price_far_below_median(LIMITS, floor - 1, 100_000, listings)
    assert fired is not None and fired.rule is RiskRule.PRICE_FAR_BELOW_MEDIAN


def test_payout_account_changed_fires_for_a_recent_replacement_only():
    window = timedelta(hours=LIMITS.payout_account_changed_hours)
    assert rules.payout_account_changed(LIMITS, False, NOW, NOW) is None  # a first account
    assert rules.payout_account_changed(LIMITS, True, NOW - window, NOW) is None
    fired = rules.payout_account_changed(LIMITS, True, NOW - window + timedelta(seconds=1), NOW)
    assert fired is not None and fired.rule is RiskRule.PAYOUT_ACCOUNT_CHANGED
