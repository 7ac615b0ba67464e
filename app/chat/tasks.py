"""Background jobs of the chat: closing chats CHAT_CLOSE_AFTER_DAYS after their job finished."""

from app.chat import lifecycle, repository
from app.core.jobs import PeriodicJob

AUTO_CLOSE_INTERVAL_SECONDS = 60.0
BATCH = 200


async def close_finished_chats() -> bool:
    """Walk the open chats in id order and close those whose job finished long enough ago.
    Safe to run twice: each close is a conditional update on `open`."""
    after: str | None = None
    while True:
        job_ids = await repository.open_chat_ids(after, BATCH)
        for job_id in job_ids:
            await lifecycle.close_if_due(job_id)
        if len(job_ids) < BATCH:
            return False
        after = job_ids[-1]


def jobs(interval: float = AUTO_CLOSE_INTERVAL_SECONDS) -> list[PeriodicJob]:
    return [PeriodicJob("chat-auto-close", close_finished_chats, interval=interval)]
