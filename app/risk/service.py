"""Scoring an event's fired rules against the weights in settings, and recording the flags.

The domains that hold a rule's inputs read them (one indexed query each, in their own
repositories), call the rules of `rules.py` and `assess` here, then act on the assessment:
orders and payouts wait on review, listings go to moderation, captures and refunds (which
cannot be stopped) raise an alert. This package imports none of them, so each can call it.
"""

from typing import Any

from app.alerts import service as alerts
from app.alerts.models import AlertKind
from app.audit import service as audit
from app.core.config import settings
from app.core.config_risk import RiskSettings
from app.core.database import Session
from app.core.permissions import Actor
from app.risk.models import Assessment, Flag, RiskEvent, RiskRule

FLAGGED_ACTION = "risk.flagged"


def risk_settings() -> RiskSettings:
    return settings().risk


def weight(rule: RiskRule, config: RiskSettings | None = None) -> int:
    config = config or risk_settings()
    return int(getattr(config, f"weight_{rule.value.lower()}"))


def assess(event: RiskEvent, fired: list[Flag | None]) -> Assessment:
    """The event's fired rules and their summed weights against the review threshold."""
    config = risk_settings()
    flags = tuple(flag for flag in fired if flag is not None)
    return Assessment(event=event, flags=flags,
                      score=sum(weight(flag.rule, config) for flag in flags),
                      threshold=config.review_threshold)


async def record(
    session: Session, actor: Actor, assessment: Assessment, subject_type: str, subject_id: str,
    outcome: str,
) -> None:
    """Audit the flags (if any) in the transaction of the change they were raised on;
    `outcome` says what became of the subject (on_review, moderation, alert, none)."""
    if not assessment.flags:
        return
    await audit.record(
        session, actor=actor, action=FLAGGED_ACTION, subject_type=subject_type,
        subject_id=subject_id, reason=", ".join(assessment.codes),
        metadata=_metadata(assessment, outcome),
    )


async def alert(assessment: Assessment, subject_type: str, subject_id: str) -> None:
    """An alert for flags on what cannot be held (a capture, a refund), once per subject."""
    if not assessment.flags:
        return
    await alerts.raise_alert(
        AlertKind.RISK_FLAGGED, subject_type, subject_id,
        f"Fraud checks flagged a {assessment.event.value.replace('_', ' ')}: "
        f"{', '.join(assessment.codes)}",
        _metadata(assessment, "alert"), audited=False,
    )


def _metadata(assessment: Assessment, outcome: str) -> dict[str, Any]:
    return {"event": assessment.event.value, "riskFlags": assessment.codes,
            "score": assessment.score, "threshold": assessment.threshold, "outcome": outcome,
            "rules": {flag.rule.value: flag.detail for flag in assessment.flags}}

