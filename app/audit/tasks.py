"""The audit jobs: the sequencer chains committed entries in commit order moments after they
land (`entries_written` wakes it, so an entry waits well under a second), and the checkpoint
job signs the chain head. Each runs under its own lease (see `app/main.py`)."""

import asyncio
import functools

from app.audit import checkpoints, repository
from app.audit import service as audit_service
from app.audit.chain import GENESIS_HASH, entry_hash, format_time
from app.core import clock
from app.core.config import Settings
from app.core.database import Session, transaction
from app.core.jobs import PeriodicJob

SEQUENCE_BATCH = 500
# Between sequencer runs when nothing wakes it: an entry is chained within this (plus one run).
SEQUENCE_INTERVAL_SECONDS = 0.25


class ChainMoved(Exception):
    """Another sequencer extended the chain first; this batch is retried from the new head."""


async def sequence_pending(batch: int = SEQUENCE_BATCH) -> int:
    """Give committed, unsequenced entries their `seq`, `prevHash` and `hash`; returns how many."""
    pending = await repository.pending_entries(batch)
    if not pending:
        return 0

    async def chain(session: Session) -> int:
        head = await repository.chain_head(session)
        start_seq, prev = (head["seq"], head["hash"]) if head else (0, GENESIS_HASH)
        links, seq = [], start_seq
        for entry in pending:
            seq += 1
            digest = entry_hash(entry, seq, prev)
            links.append((entry["_id"], seq, prev, digest))
            prev = digest
        if not await repository.link_entries(session, links):
            raise ChainMoved
        if not await repository.move_head(session, start_seq, seq, prev, create=head is None):
            raise ChainMoved
        return len(links)

    try:
        return await transaction(chain)
    except ChainMoved:
        return 0


async def sequence_job() -> bool:
    """One run of the sequencer; True when a full batch suggests more are waiting."""
    return await sequence_pending() == SEQUENCE_BATCH


async def checkpoint_head(config: Settings) -> dict | None:
    """Sign the chain head `(chain, seq, hash, at)`, append it to the checkpoint file (fsync'd)
    and store it; None when the head has not moved past the last checkpoint."""
    head = await repository.chain_head()
    if head is None:
        return None
    last = await repository.last_checkpoint()
    if last is not None and last["seq"] >= head["seq"]:
        return None
    checkpoint = checkpoints.sign(
        checkpoints.signing_key(config), config.database.mongodb_db, head["seq"], head["hash"],
        format_time(clock.utcnow()),
    )
    await asyncio.to_thread(checkpoints.append_to_file, config.audit.checkpoint_file, checkpoint)
    await repository.insert_checkpoint(checkpoint)
    return checkpoint


async def checkpoint_job(config: Settings) -> bool:
    await checkpoint_head(config)
    return False


SEQUENCER_LEASE_SECONDS = 10.0


def jobs(config: Settings) -> list[PeriodicJob]:
    return [
        # A short lease: when the process holding it dies, another takes the chain over
        # within seconds instead of leaving entries unsequenced for the default 30 s.
        PeriodicJob("audit-sequencer", sequence_job, interval=SEQUENCE_INTERVAL_SECONDS,
                    wake=audit_service.entries_written, lease_ttl=SEQUENCER_LEASE_SECONDS),
        PeriodicJob("audit-checkpoint", functools.partial(checkpoint_job, config),
                    interval=config.audit.checkpoint_interval_seconds),
    ]
