"""The audit trail: append-only entries, chained by the sequencer in commit order."""

from datetime import datetime
from typing import Any

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel


class AuditEntry(Document):
    """Written with the change it records; `seq`, `prev_hash` and `hash` are set once, later.

    Entries are inserted as raw documents without `seq` (`pending: true`), so that the
    unique sparse index on `seq` only ever holds sequenced entries. It stays sparse, not
    partial: a sparse index would still hold an explicit `seq: null`, but nothing writes one
    (entries are never inserted through this model; the sequencer only sets an int), while
    the listings' bare ranges on `seq` (`$lt` a cursor) could not use a partial index.
    """

    id: str
    at: datetime
    actor_id: str
    actor_role: str
    action: str
    subject_type: str
    subject_id: str
    changes: dict[str, Any] = Field(default_factory=dict)
    reason: str | None = None
    override: bool = False
    metadata: dict[str, Any] = Field(default_factory=dict)
    source: dict[str, str | None] = Field(default_factory=dict)
    pending: bool | None = None
    seq: int | None = None
    prev_hash: str | None = None
    hash: str | None = None

    class Settings:
        name = "audit_entries"
        indexes = [
            IndexModel([("seq", ASCENDING)], unique=True, sparse=True, name="seq_unique"),
            IndexModel([("pending", ASCENDING), ("_id", ASCENDING)], sparse=True, name="pending"),
            # Listings run in chain order (`seq`, newest first): each filter has its index.
            IndexModel([("at", DESCENDING), ("_id", DESCENDING)], name="newest"),
            IndexModel([("actor_id", ASCENDING), ("seq", DESCENDING)], name="by_actor_seq"),
            IndexModel(
                [("subject_type", ASCENDING), ("subject_id", ASCENDING), ("seq", DESCENDING)],
                name="by_subject_seq",
            ),
            IndexModel([("action", ASCENDING), ("seq", DESCENDING)], name="by_action_seq"),
            IndexModel([("override", ASCENDING), ("seq", DESCENDING)], name="by_override_seq"),
            # The governance console's overrides by time, chained yet or not. `at` stays the
            # last field: the embedded server drops entries equal to a bound on a field that
            # further fields follow (README, "Benchmarks").
            IndexModel([("override", ASCENDING), ("at", DESCENDING)], name="by_override_at"),
        ]


class AuditChainHead(Document):
    """The last sequenced entry: the only document the sequencer serialises on."""

    id: str
    seq: int
    hash: str

    class Settings:
        name = "audit_chain_head"


class AuditCheckpoint(Document):
    """A signed (chain, seq, hash, at) of the chain head, as also appended to the checkpoint file.

    `at` is kept as the exact text that was signed.
    """

    id: str
    chain: str
    seq: int
    hash: str
    at: str
    key_id: str
    signature: str

    class Settings:
        name = "audit_checkpoints"
        indexes = [IndexModel([("seq", ASCENDING)], unique=True, name="seq_unique")]
