"""Settings sections of the repair half: repair jobs (matching, offers, timers, the payment
terminal) and ratings; `app/core/config.py` composes them into `Settings`."""

import base64
import binascii

from pydantic import Field, SecretStr, field_validator

from app.core.config_sections import Section

# dev/test only: published in this repository, so production refuses it.
DEFAULT_IMEI_ENCRYPTION_KEY = "ZGV2LW9ubHktcmVwYWlyLWltZWktc2VhbGluZy1rZXk="


class RepairSettings(Section):
    """Repair jobs: matching, offers, timers and the technician's payment terminal."""

    match_radius_km: float = Field(
        default=10, gt=0, le=100, validation_alias="REPAIR_MATCH_RADIUS_KM",
        description="Hardware matching: technicians whose fresh, accurate fix lies within this "
        "distance of the job are candidates",
    )
    offer_ttl_seconds: int = Field(
        default=120, ge=5, validation_alias="REPAIR_OFFER_TTL_SECONDS",
        description="How long an offered technician has to accept before the next candidate "
        "is offered the job",
    )
    job_interval_seconds: float = Field(
        default=5, gt=0, validation_alias="REPAIR_JOB_INTERVAL_SECONDS",
        description="How often the repair timers (offer expiry, overdue starts) run",
    )
    weight_distance: float = Field(
        default=0.5, ge=0, validation_alias="REPAIR_MATCH_WEIGHT_DISTANCE",
        description="Matching score weight of nearness (1 at the job, 0 at the radius)",
    )
    weight_rating: float = Field(
        default=0.3, ge=0, validation_alias="REPAIR_MATCH_WEIGHT_RATING",
        description="Matching score weight of the Bayesian rating (divided by 5)",
    )
    weight_acceptance: float = Field(
        default=0.2, ge=0, validation_alias="REPAIR_MATCH_WEIGHT_ACCEPTANCE",
        description="Matching score weight of the acceptance rate of the last 20 offers "
        "(1 for a technician not offered anything yet)",
    )
    start_grace_minutes: int = Field(
        default=120, ge=1, validation_alias="REPAIR_START_GRACE_MINUTES",
        description="An accepted offline job not started this long after its time (scheduledAt, "
        "else acceptance) raises an admin alert",
    )
    rematch_after_minutes: int = Field(
        default=60, ge=1, validation_alias="REPAIR_REMATCH_AFTER_MINUTES",
        description="Minutes after that alert with still no start: the job goes back to matching "
        "(software jobs: back to awaiting_assignment)",
    )
    cancellation_fee: int = Field(
        default=0, ge=0, validation_alias="REPAIR_CANCELLATION_FEE",
        description="Paise a customer owes for cancelling after a technician accepted (0: free)",
    )
    quote_max_total: int = Field(
        default=20_000_000, ge=100, validation_alias="REPAIR_QUOTE_MAX_TOTAL",
        description="Largest quote total in paise (default ₹2,00,000)",
    )
    low_rating_threshold: float = Field(
        default=3.5, ge=0, le=5, validation_alias="REPAIR_LOW_RATING_THRESHOLD",
        description="A technician averaging under this over at least "
        "REPAIR_LOW_RATING_MIN_COUNT ratings raises an admin alert for review",
    )
    low_rating_min_count: int = Field(
        default=10, ge=1, validation_alias="REPAIR_LOW_RATING_MIN_COUNT",
        description="Ratings a technician needs before a low average raises an alert",
    )
    low_acceptance_ratio: float = Field(
        default=0.5, ge=0, le=1, validation_alias="REPAIR_LOW_ACCEPTANCE_RATIO",
        description="A technician accepting under this share of the last 20 offers raises an "
        "admin alert for review",
    )
    imei_encryption_key: SecretStr = Field(
        default=SecretStr(DEFAULT_IMEI_ENCRYPTION_KEY), validation_alias="IMEI_ENCRYPTION_KEY",
        description="AES-256-GCM key sealing repair jobs' IMEIs at rest: base64 of 32 random "
        "bytes (`openssl rand -base64 32`); production refuses the default",
    )

    @field_validator("imei_encryption_key")
    @classmethod
    def _aes_256_key(cls, value: SecretStr) -> SecretStr:
        try:
            raw = base64.b64decode(value.get_secret_value(), validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            raise ValueError("IMEI_ENCRYPTION_KEY must be base64 of 32 bytes")
        return value

    def production_problems(self) -> list[str]:
        """Why these settings would not keep IMEIs safe in production (empty: none)."""
        if self.imei_encryption_key.get_secret_value() == DEFAULT_IMEI_ENCRYPTION_KEY:
            return ["IMEI_ENCRYPTION_KEY must be set in production"]
        return []


class RatingSettings(Section):
    """Ratings of completed repairs."""

    window_days: int = Field(
        default=30, ge=1, validation_alias="RATING_WINDOW_DAYS",
        description="Days after completion during which the customer may rate a repair",
    )


class ConsentSettings(Section):
    """Software-repair controls: consents and remote port sessions."""

    remote_session_heartbeat_timeout_seconds: int = Field(
        default=120, ge=5, validation_alias="REMOTE_SESSION_HEARTBEAT_TIMEOUT_SECONDS",
        description="A remote port session with no heartbeat event for this long ends by itself",
    )
