"""The audit sequencer: chains committed entries in commit order, moments after they land.

One lease-holding job runs it (see `app/main.py`); `entries_written` wakes it early.
"""

from app.audit import repository
from app.audit.chain import GENESIS_HASH, entry_hash
from app.core.database import Session, transaction

SEQUENCE_BATCH = 500


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
