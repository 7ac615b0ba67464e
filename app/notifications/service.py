"""Recording notifications once, pushing each once, and reading one's own.

A notification is written in the transaction of the change it reports (the caller passes
its session), so it exists exactly when the change does; it is pushed to the user's
Socket.IO room after the commit. Should the process die between the two, or the push fail,
the outbox job (`tasks.py`) pushes it later. Each push is claimed by a conditional update,
so two processes never send the same one.
"""

from datetime import timedelta
from functools import partial

from app.core import clock
from app.core.database import Session, after_commit
from app.core.pagination import PageRequest
from app.core.permissions import Actor
from app.notifications import repository
from app.notifications.exceptions import NotificationNotFound
from app.notifications.models import Notification
from app.notifications.schemas import NotificationRead
from app.realtime import events

NOTIFICATION_EVENT = "notification"
# How long the outbox leaves a new notification to its writer's own push after the commit,
# and how long a claimed push may take before the outbox takes it again.
PUSH_GRACE_SECONDS = 30.0


async def notify(
    session: Session | None, *, key: str, user_id: str, kind: str, subject_type: str,
    subject_id: str, message: str,
) -> bool:
    """Record a notification unless one with this key exists; True when it is new.

    In a transaction it is pushed once the transaction commits (never if it aborts);
    without one, at once."""
    now = clock.utcnow()
    notification = Notification(
        id=key, user_id=user_id, kind=kind, subject_type=subject_type, subject_id=subject_id,
        message=message, created_at=now, push_after=now + timedelta(seconds=PUSH_GRACE_SECONDS),
    )
    created = await repository.insert_once(session, notification)
    if created:
        if session is None:
            await push(notification)
        else:
            # A session of no `transaction()` schedules nothing: the outbox pushes it.
            after_commit(session, partial(push, notification))
    return created


async def push(notification: Notification) -> bool:
    """Send a recorded, unpushed notification to its user's connected Socket.IO clients,
    unless another process has taken it; True when this call sent it."""
    now = clock.utcnow()
    if not await repository.claim_push(notification, now + timedelta(seconds=PUSH_GRACE_SECONDS)):
        return False
    payload = NotificationRead.model_validate(notification).model_dump(mode="json", by_alias=True)
    if not await events.emit_to_user(notification.user_id, NOTIFICATION_EVENT, payload):
        return False  # still claimed: the outbox tries again once the claim runs out
    await repository.mark_pushed(notification.id, notification.push_claims + 1, clock.utcnow())
    return True


async def push_due(limit: int) -> int:
    """Push the unpushed notifications whose writer had its chance; how many were read."""
    due = await repository.due_for_push(clock.utcnow(), limit)
    for notification in due:
        await push(notification)
    return len(due)


async def list_mine(
    actor: Actor, unread: bool | None, page: PageRequest
) -> tuple[list[Notification], str | None, int]:
    """The caller's own notifications, newest first (only unread or read ones if asked), and
    how many are unread."""
    items, next_cursor = await repository.page_own(actor, unread, page)
    return items, next_cursor, await repository.count_unread(actor)


async def mark_read(actor: Actor, notification_id: str) -> Notification:
    """Mark one of the caller's own notifications read; anyone else's is not found."""
    notification = await repository.mark_read(actor, notification_id, clock.utcnow())
    if notification is None:
        raise NotificationNotFound
    return notification
