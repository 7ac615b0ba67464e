from datetime import datetime

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.core import clock


class Notification(Document):
    """`id` is a dedupe key (e.g. `order-shipped:ord_…`), so a replayed change notifies once.

    The collection is also the outbox of the pushes: a notification is written in the
    transaction of the change it reports with `push_after` set, pushed after the commit, and
    then marked `pushed_at` (with `push_after` removed); the outbox job pushes those whose
    `push_after` has passed (the writer died before pushing, or the push failed)."""

    id: str
    user_id: str
    kind: str
    subject_type: str
    subject_id: str
    message: str
    read_at: datetime | None = None
    created_at: datetime = Field(default_factory=clock.utcnow)
    # Set while unpushed: from then on the outbox job may take it (renewed by each claim).
    push_after: datetime | None = None
    # Claims of the push so far; a claim is a conditional update on this count.
    push_claims: int = 0
    pushed_at: datetime | None = None

    class Settings:
        name = "notifications"
        indexes = [
            IndexModel([("user_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                       name="by_user"),
            IndexModel([("user_id", ASCENDING), ("read_at", ASCENDING),
                        ("created_at", DESCENDING), ("_id", DESCENDING)], name="unread_by_user"),
            # Only unpushed notifications carry `push_after`: the outbox reads just those.
            IndexModel([("push_after", ASCENDING)], name="outbox", sparse=True),
        ]


DOCUMENTS: list[type] = [Notification]
