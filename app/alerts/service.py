"""Raising (once per subject while open), listing and acknowledging alerts."""

from datetime import UTC, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from app.alerts import repository
from app.alerts.models import Alert, AlertKind
from app.audit import service as audit
from app.core import clock
from app.core.database import Session, transaction
from app.core.errors import IllegalTransition, NotFound, RuleViolation
from app.core.pagination import PageRequest
from app.core.permissions import SYSTEM_ACTOR, Actor


async def raise_alert(
    kind: AlertKind, subject_type: str, subject_id: str, message: str,
    details: dict[str, Any] | None = None, *, audited: bool = True,
) -> Alert | None:
    """Open an alert unless one is already open for this kind and subject. `audited=False`
    for alerts that count what anyone on the internet can send (the alert is the record),
    so that noise can never grow the audit trail."""
    alert = Alert(kind=kind, subject_type=subject_type, subject_id=subject_id, message=message,
                  details=details or {}, open_key=f"{kind.value}:{subject_id}")

    async def work(session: Session) -> Alert:
        await repository.insert(session, alert)
        if not audited:
            return alert
        await audit.record(
            session, actor=SYSTEM_ACTOR, action=f"alert.{kind.value}", subject_type=subject_type,
            subject_id=subject_id, reason=message, metadata={"alertId": alert.id, **(details or {})},
        )
        return alert

    try:
        return await transaction(work)
    except DuplicateKeyError:  # one is open already: the unique open_key refused this one
        return None


async def count_in_window(
    kind: AlertKind, subject_type: str, message: str, window_seconds: int,
    details: dict[str, Any] | None = None,
) -> None:
    """Count one occurrence of `kind` in the current clock window: the first opens one alert
    (not audited: anyone can cause it), every later one only adds to its `details.count`, so a
    flood costs one small update each and never grows the alert or audit collections."""
    now = clock.utcnow()
    start = int(now.timestamp()) // window_seconds * window_seconds
    subject_id = f"window:{start}"
    alert_key = f"{kind.value}:{subject_id}"
    if await repository.count_once_more(alert_key):
        return
    window_start = datetime.fromtimestamp(start, UTC).isoformat()
    opened = await raise_alert(kind, subject_type, subject_id, message, {
        **(details or {}), "count": 1, "windowStart": window_start,
        "windowSeconds": window_seconds,
    }, audited=False)
    if opened is None:  # another request opened it meanwhile: count this one there
        await repository.count_once_more(alert_key)


async def list_alerts(
    open_only: bool | None, kind: AlertKind | None, page: PageRequest
) -> tuple[list[Alert], str | None]:
    return await repository.page(open_only, kind, page)


async def acknowledge(actor: Actor, alert_id: str, note: str | None) -> Alert:
    alert = await repository.get(alert_id)
    if alert is None:
        raise NotFound("Alert not found")

    async def work(session: Session) -> None:
        if not await repository.acknowledge(session, alert_id, actor.id, note, clock.utcnow()):
            raise IllegalTransition("The alert is already acknowledged")
        await audit.record(
            session, actor=actor, action="alert.acknowledged", subject_type="alert",
            subject_id=alert_id, reason=note, metadata={"kind": alert.kind.value},
        )

    await transaction(work)
    refreshed = await repository.get(alert_id)
    assert refreshed is not None
    return refreshed


def require_acknowledgement(acknowledged: bool) -> None:
    if not acknowledged:
        raise RuleViolation("Alerts can only be acknowledged (acknowledged: true)")


async def count_open(actor: Actor) -> int:
    """Alerts not acknowledged yet, for the governance dashboard."""
    return await repository.count_open(actor)
