"""Settings section of the fraud checks: each rule's limit and weight, and the score at which
an order or payout waits for an admin's review; `app/core/config.py` composes it."""

from pydantic import Field

from app.core.config_sections import Section


class RiskSettings(Section):
    """Fraud checks: rule limits and weights, and the review threshold."""

    review_threshold: int = Field(
        default=50, ge=1, validation_alias="RISK_REVIEW_THRESHOLD",
        description="Score (the sum of the weights of the rules that fired) at or above which "
        "an order or payout waits on review and a listing goes to moderation",
    )
    order_velocity_per_hour: int = Field(
        default=10, ge=1, validation_alias="RISK_ORDER_VELOCITY_PER_HOUR",
        description="ORDER_VELOCITY: orders an account may place in an hour; one more fires",
    )
    device_order_velocity_per_hour: int = Field(
        default=30, ge=1, validation_alias="RISK_DEVICE_ORDER_VELOCITY_PER_HOUR",
        description="ORDER_VELOCITY: orders placed from one device (the sign-in's X-Device-Id) "
        "in an hour; one more fires",
    )
    ip_order_velocity_per_hour: int = Field(
        default=200, ge=1, validation_alias="RISK_IP_ORDER_VELOCITY_PER_HOUR",
        description="ORDER_VELOCITY: orders placed from one client IP in an hour; one more fires",
    )
    first_order_high_value: int = Field(
        default=20_000_000, ge=1, validation_alias="RISK_FIRST_ORDER_HIGH_VALUE",
        description="FIRST_ORDER_HIGH_VALUE: paise above which an account's first order fires",
    )
    payment_failures_per_hour: int = Field(
        default=5, ge=1, validation_alias="RISK_PAYMENT_FAILURES_PER_HOUR",
        description="PAYMENT_FAILURES: failed payments of the payer in the hour before a "
        "capture at which the capture fires",
    )
    refund_ratio_percent: int = Field(
        default=50, ge=1, le=100, validation_alias="RISK_REFUND_RATIO_PERCENT",
        description="REFUND_RATIO: share of a buyer's paid payments refunded (counting the "
        "refund asked for) at which a refund fires",
    )
    refund_ratio_min_payments: int = Field(
        default=4, ge=1, validation_alias="RISK_REFUND_RATIO_MIN_PAYMENTS",
        description="REFUND_RATIO: paid payments a buyer needs before its ratio is judged",
    )
    price_below_median_percent: int = Field(
        default=20, ge=1, le=100, validation_alias="RISK_PRICE_BELOW_MEDIAN_PERCENT",
        description="PRICE_FAR_BELOW_MEDIAN: a listing whose B2C price is under this percent "
        "of its category's median B2C price fires",
    )
    price_median_min_listings: int = Field(
        default=5, ge=1, validation_alias="RISK_PRICE_MEDIAN_MIN_LISTINGS",
        description="PRICE_FAR_BELOW_MEDIAN: active listings a category needs before its "
        "median is trusted",
    )
    payout_account_changed_hours: int = Field(
        default=24, ge=1, validation_alias="RISK_PAYOUT_ACCOUNT_CHANGED_HOURS",
        description="PAYOUT_ACCOUNT_CHANGED: a payout to an account that replaced one the "
        "recipient had been paid to, this recently, fires",
    )
    weight_order_velocity: int = Field(
        default=50, ge=0, validation_alias="RISK_WEIGHT_ORDER_VELOCITY",
        description="Score weight of ORDER_VELOCITY",
    )
    weight_first_order_high_value: int = Field(
        default=50, ge=0, validation_alias="RISK_WEIGHT_FIRST_ORDER_HIGH_VALUE",
        description="Score weight of FIRST_ORDER_HIGH_VALUE",
    )
    weight_payment_failures: int = Field(
        default=50, ge=0, validation_alias="RISK_WEIGHT_PAYMENT_FAILURES",
        description="Score weight of PAYMENT_FAILURES",
    )
    weight_refund_ratio: int = Field(
        default=50, ge=0, validation_alias="RISK_WEIGHT_REFUND_RATIO",
        description="Score weight of REFUND_RATIO",
    )
    weight_price_far_below_median: int = Field(
        default=50, ge=0, validation_alias="RISK_WEIGHT_PRICE_FAR_BELOW_MEDIAN",
        description="Score weight of PRICE_FAR_BELOW_MEDIAN",
    )
    weight_payout_account_changed: int = Field(
        default=50, ge=0, validation_alias="RISK_WEIGHT_PAYOUT_ACCOUNT_CHANGED",
        description="Score weight of PAYOUT_ACCOUNT_CHANGED",
    )
