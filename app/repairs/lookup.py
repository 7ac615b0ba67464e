"""A read-only look-up of a repair job by id, for other domains' rules (ratings)."""

from app.repairs.models import Repair


async def get_repair(repair_id: str) -> Repair | None:
    """The repair, whoever owns it: the caller decides who may act on it."""
    return await Repair.get(repair_id)
