from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field

from app.core.schemas import APIModel


class AuditStoredModel(APIModel):
    """Read from stored documents, which carry internal fields (`pending`) not shown."""

    model_config = ConfigDict(extra="ignore")


class AuditSource(AuditStoredModel):
    ip: str | None = None
    user_agent: str | None = None
    trace_id: str | None = None


class AuditEntryRead(AuditStoredModel):
    id: str = Field(validation_alias="_id")
    seq: int | None = None
    at: datetime
    actor_id: str
    actor_role: str
    action: str
    subject_type: str
    subject_id: str
    changes: dict[str, Any]
    reason: str | None = None
    override: bool
    metadata: dict[str, Any]
    source: AuditSource
    prev_hash: str | None = None
    hash: str | None = None


class ChainProblem(APIModel):
    kind: str = Field(description="`broken`, `rewritten`, `truncated`, `forged` or `unreadable`")
    seq: int | None = Field(description="The entry's or checkpoint's seq, when there is one")
    source: str = Field(description="Where it was found: `chain`, `file` or `database`")
    detail: str


class CheckpointCounts(APIModel):
    file: int = Field(description="Checkpoints of this chain in the checkpoint file")
    database: int = Field(description="Checkpoints stored in the database")
    verified: int = Field(description="Distinct checkpoints whose signature is the audit key's")
    last_seq: int | None = Field(description="The newest verified checkpoint's seq")


class ChainVerification(APIModel):
    valid: bool = Field(description="No problem found")
    checked_entries: int = Field(description="Entries that hash and link correctly, from seq 1")
    head_seq: int | None = Field(description="The chain head's seq when the check began")
    first_broken_seq: int | None
    pending: int = Field(description="Entries committed but not yet chained (sequenced shortly)")
    checkpoints: CheckpointCounts
    problems: list[ChainProblem]


class SigningKeyRead(APIModel):
    key_id: str = Field(description="First 16 hex digits of SHA-256 of the raw public key")
    algorithm: str = Field(description="Always `Ed25519`")
    public_key: str = Field(description="The raw 32-byte public key, base64")
    pem: str = Field(description="The same key as PEM (SubjectPublicKeyInfo)")
