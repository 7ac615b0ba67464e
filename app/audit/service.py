"""Recording and reading the audit trail (verifying: `verification.py`; the sequencer and the
checkpoints: `tasks.py`)."""

import asyncio
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.audit import repository
from app.audit.chain import to_plain
from app.core import clock
from app.core.config import settings
from app.core.context import current_source
from app.core.database import Session
from app.core.errors import RuleViolation
from app.core.ids import new_id
from app.core.pagination import PageRequest, match
from app.core.permissions import Actor

# Set after an audited write so the sequencer chains it without waiting for its next tick.
entries_written = asyncio.Event()


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields that changed, as {field: {"from": old, "to": new}}."""
    return {
        name: {"from": before.get(name), "to": value}
        for name, value in after.items()
        if before.get(name) != value
    }


async def record(
    session: Session | None,
    *,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: str,
    changes: dict[str, Any] | None = None,
    reason: str | None = None,
    override: bool = False,
    metadata: dict[str, Any] | None = None,
) -> str:
    """Append an audit entry; pass the change's session so both commit or neither does."""
    if override and not reason:
        raise RuleViolation("An override must give a reason", {"errors": [{"field": "reason"}]})
    source = current_source()
    entry = {
        "_id": new_id("aud"),
        "at": clock.utcnow(),
        "actor_id": actor.id,
        "actor_role": actor.role.value,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "changes": to_plain(changes or {}),
        "reason": reason,
        "override": override,
        "metadata": to_plain(metadata or {}),
        "source": {"ip": source.ip, "user_agent": source.user_agent, "trace_id": source.trace_id},
        "pending": True,
    }
    await repository.insert_entry(session, entry)
    entries_written.set()
    return entry["_id"]


@dataclass(frozen=True)
class AuditFilter:
    actor_id: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    action: str | None = None
    override: bool | None = None
    since: datetime | None = None
    until: datetime | None = None

    def query(self) -> dict[str, Any]:
        equals = {"actor_id": self.actor_id, "subject_type": self.subject_type,
                  "subject_id": self.subject_id, "action": self.action, "override": self.override}
        return match(equals, "at", self.since, self.until)


async def list_entries(
    actor: Actor, filters: AuditFilter, page: PageRequest, pending: bool = False
) -> tuple[list[dict[str, Any]], str | None]:
    """Chained entries matching `filters` that `actor` may read, in chain order (newest `seq`
    first); with `pending`, only those the sequencer has not chained yet (newest first)."""
    return await repository.list_visible(actor, filters.query(), page, pending)


def email_fingerprint(email: str) -> str:
    """A keyed hash (HMAC-SHA256) of a normalised email: the audit trail names people by id,
    and an address that is no account's by this, so repeated guesses still correlate."""
    audit = settings().audit
    key = (audit.identifier_key.get_secret_value().encode() if audit.identifier_key
           else hmac.new(settings().auth.jwt_secret.get_secret_value().encode(),
                         b"audit-email-fingerprint", hashlib.sha256).digest())
    return hmac.new(key, email.strip().lower().encode(), hashlib.sha256).hexdigest()


async def page_overrides(
    actor: Actor, since: datetime | None, until: datetime | None, page: PageRequest
) -> tuple[list[dict[str, Any]], str | None]:
    """Every use of an override right within [since, until), newest first."""
    return await repository.page_overrides(actor, since, until, page)


async def count_overrides_since(actor: Actor, since: datetime) -> int:
    return await repository.count_overrides_since(actor, since)


async def entries_about(subjects: dict[str, list[str]]) -> list[dict[str, Any]]:
    """The entries about these subjects (subject type → ids), chained or not yet: one indexed
    query per type. System scope: the caller authorises (dispute evidence)."""
    found: list[dict[str, Any]] = []
    for subject_type, subject_ids in subjects.items():
        found += await repository.entries_about(subject_type, sorted(set(subject_ids)))
    return found
