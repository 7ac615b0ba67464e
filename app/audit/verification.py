"""Verifying the audit trail: the hash chain itself, and the chain against every checkpoint.

The chain alone proves only that it is self-consistent: whoever can write the database can
rewrite an entry and recompute every hash after it, or drop the newest entries with the
head. Signed checkpoints (from the file and from the database) pin `(seq, hash)` pairs the
chain must still contain.
"""

import asyncio
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from app.audit import checkpoints, repository
from app.audit.chain import GENESIS_HASH, entry_hash
from app.core.config import Settings


class ProblemKind(StrEnum):
    BROKEN = "broken"  # an entry does not hash or link as the chain says
    REWRITTEN = "rewritten"  # the entry at a checkpoint's seq has another hash now
    TRUNCATED = "truncated"  # a checkpoint's seq is gone, or the head is behind it
    FORGED = "forged"  # a checkpoint whose signature is not the signing key's
    UNREADABLE = "unreadable"  # a line of the checkpoint file that is no checkpoint


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind
    seq: int | None
    source: str  # "chain", "file" or "database"
    detail: str


@dataclass(frozen=True)
class CheckpointCounts:
    file: int
    database: int
    verified: int
    last_seq: int | None


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_broken_seq: int | None
    pending: int
    head_seq: int | None
    checkpoints: CheckpointCounts
    problems: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems


@dataclass
class _Walk:
    checked: int = 0
    first_broken_seq: int | None = None
    hashes_at: dict[int, str] = field(default_factory=dict)


async def verify_chain(config: Settings) -> ChainReport:
    """Recompute every hash in `seq` order, then hold the chain against every checkpoint.

    Checkpoints are read before the head, and only entries up to the head are checked: the
    sequencer and the checkpoint job keep going meanwhile, and neither an entry chained nor
    a checkpoint signed after that is a break.
    """
    chain = config.database.mongodb_db
    in_file = await asyncio.to_thread(checkpoints.read_file, config.audit.checkpoint_file, chain)
    in_database = await repository.stored_checkpoints()
    pending = await repository.count_pending()
    head = await repository.chain_head()

    problems = [Problem(ProblemKind.UNREADABLE, None, "file", f"line {number} is not a checkpoint")
                for number in in_file.unreadable_lines]
    trusted = _signed(config, in_file.checkpoints, in_database, problems)
    walk = await _walk(head, set(trusted))
    if walk.first_broken_seq is not None:
        problems.append(Problem(ProblemKind.BROKEN, walk.first_broken_seq, "chain",
                                "this entry does not hash or link as the chain says"))
    problems += _against_checkpoints(trusted, walk, head)
    return ChainReport(
        checked=walk.checked, first_broken_seq=walk.first_broken_seq, pending=pending,
        head_seq=head["seq"] if head else None,
        checkpoints=CheckpointCounts(len(in_file.checkpoints), len(in_database), len(trusted),
                                     max(trusted) if trusted else None),
        problems=problems,
    )


def _signed(config: Settings, in_file: list[dict[str, Any]], in_database: list[dict[str, Any]],
            problems: list[Problem]) -> dict[int, dict[str, Any]]:
    """The checkpoints signed by our key, by seq; every other one is reported as forged."""
    public_key = checkpoints.signing_key(config).public_key()
    trusted: dict[int, dict[str, Any]] = {}
    for source, found in (("file", in_file), ("database", in_database)):
        for checkpoint in found:
            if not checkpoints.signature_valid(public_key, checkpoint):
                problems.append(Problem(ProblemKind.FORGED, checkpoint.get("seq"), source,
                                        "the checkpoint's signature is not the audit key's"))
                continue
            trusted.setdefault(checkpoint["seq"], checkpoint)
    return trusted


async def _walk(head: dict[str, Any] | None, checkpoint_seqs: set[int]) -> _Walk:
    """Check each entry's hash and link up to the head; note the hashes at checkpoint seqs."""
    walk = _Walk()
    expected_seq, prev = 1, GENESIS_HASH
    async for entry in repository.sequenced_up_to(head["seq"] if head else None):
        seq = entry["seq"]
        if seq in checkpoint_seqs:
            walk.hashes_at[seq] = entry.get("hash") or ""
        if walk.first_broken_seq is not None:
            continue
        if seq != expected_seq or entry.get("prev_hash") != prev:
            walk.first_broken_seq = expected_seq
        elif entry_hash(entry, seq, prev) != entry.get("hash"):
            walk.first_broken_seq = seq
        else:
            prev, walk.checked, expected_seq = entry["hash"], walk.checked + 1, expected_seq + 1
    if walk.first_broken_seq is None and head and (head["seq"] != walk.checked
                                                   or head["hash"] != prev):
        walk.first_broken_seq = walk.checked + 1
    return walk


def _against_checkpoints(trusted: dict[int, dict[str, Any]], walk: _Walk,
                         head: dict[str, Any] | None) -> list[Problem]:
    problems: list[Problem] = []
    head_seq = head["seq"] if head else 0
    last_matching = 0
    for seq in sorted(trusted):
        signed_hash = trusted[seq]["hash"]
        if seq > head_seq:
            problems.append(Problem(ProblemKind.TRUNCATED, seq, "chain",
                                    f"a checkpoint names seq {seq}; the chain ends at {head_seq}"))
        elif seq not in walk.hashes_at:
            problems.append(Problem(ProblemKind.TRUNCATED, seq, "chain",
                                    f"the entry at checkpointed seq {seq} no longer exists"))
        elif walk.hashes_at[seq] != signed_hash:
            problems.append(Problem(
                ProblemKind.REWRITTEN, seq, "chain",
                f"the entry at seq {seq} no longer has its checkpointed hash: entries after "
                f"seq {last_matching} (the last checkpoint that still matches) were rewritten",
            ))
        else:
            last_matching = seq
    return problems
