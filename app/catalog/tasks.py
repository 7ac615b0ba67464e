"""Background work of the catalogue: keeping this process's browse read model warm.

Every browse request checks the catalogue version itself (browse.py), so correctness never
depends on this; it only moves the cost of loading the model, and of catching up after a
large change (a bulk import, a dealer with thousands of products suspended), off user
requests: loaded at start-up, then caught up every REFRESH_SECONDS.
"""

import asyncio
import contextlib
import logging

from app.catalog import browse, repository

log = logging.getLogger(__name__)
REFRESH_SECONDS = 1.0


async def warm_read_model() -> None:
    """At start-up: create the version document if needed and load the read model."""
    await repository.ensure_catalog_state()
    snapshot = await browse.read_model().ready()
    browse.settle_heap(len(snapshot), collect=True)


async def _refresh_forever(interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await browse.read_model().refresh()
        except asyncio.CancelledError:
            raise
        except Exception:  # the database may be away for a moment; requests still check
            log.warning("browse read model refresh failed", exc_info=True)


def start_refresher(interval: float = REFRESH_SECONDS) -> asyncio.Task[None]:
    return asyncio.create_task(_refresh_forever(interval), name="catalog-read-model-refresh")


async def stop_refresher(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
