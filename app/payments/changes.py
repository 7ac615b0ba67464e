"""The one way a payment's state changes: a guarded update and its audit entry, together."""

from typing import Any

from app.audit import service as audit
from app.core.database import Session
from app.core.errors import AppError
from app.core.permissions import Actor
from app.payments import repository
from app.payments.models import Payment


async def change_payment(
    session: Session,
    actor: Actor,
    payment: Payment,
    *,
    guard: dict[str, Any],
    fields: dict[str, Any],
    unset: tuple[str, ...] = (),
    conflict: AppError | None = None,
    action: str | None = None,
    changes: dict[str, Any] | None = None,
    reason: str | None = None,
    override: bool = False,
    metadata: dict[str, Any] | None = None,
) -> bool:
    """Update `payment` in the caller's transaction while it still matches `guard`, and audit
    it as `action` (none when another domain audits the change itself).

    When the guard no longer matches nothing is written: `conflict` is raised if given,
    else False is returned."""
    if not await repository.update_guarded(session, payment.id, guard, fields, unset):
        if conflict is not None:
            raise conflict
        return False
    if action is not None:
        await audit.record(
            session, actor=actor, action=action, subject_type="payment", subject_id=payment.id,
            changes=changes, reason=reason, override=override, metadata=metadata,
        )
    return True
