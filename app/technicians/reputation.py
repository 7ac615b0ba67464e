"""A technician's reputation: each rating counted into its figures and the platform's (in the
rating's transaction), and the review alert for a technician rated low — never a block.

The ratings domain calls `prepare_rating` before its transaction, `record_rating` inside it
and `review_low_rating` after it commits. The Bayesian score is computed when read
(`service.bayesian_rating` over `service.platform_mean()`), never stored and never by a scan.
"""

from dataclasses import dataclass

from app.alerts import service as alerts_service
from app.alerts.models import AlertKind
from app.core.config import settings
from app.core.database import Session
from app.technicians import repository
from app.technicians.exceptions import TechnicianNotFound
from app.technicians.service import search_entry


@dataclass(frozen=True)
class RatingFigures:
    """A technician's rating figures just after one more rating."""

    technician_id: str
    count: int
    sum: int
    average: float
    distribution: dict[str, int]
    platform_count: int
    platform_sum: int
    low: bool  # under REPAIR_LOW_RATING_THRESHOLD over at least REPAIR_LOW_RATING_MIN_COUNT
    low_alerted: bool  # the alert of the current low spell was raised already


def is_low_rated(average: float, count: int) -> bool:
    config = settings().repairs
    return count >= config.low_rating_min_count and average < config.low_rating_threshold


async def prepare_rating() -> None:
    """Make sure the platform's stats document exists (call before the rating's transaction)."""
    await repository.ensure_rating_stats()


async def record_rating(session: Session, technician_id: str, score: int) -> RatingFigures:
    """Count one rating of `score` (1..5) into the technician's count, sum and distribution
    and the platform's count and sum, and move the technician's search entry to the new
    figures — all in `session`, the transaction that inserts the rating and its audit entry."""
    technician = await repository.count_rating(session, technician_id, score)
    if technician is None:
        raise TechnicianNotFound
    count, total = technician.rating_count, technician.rating_sum
    average = total / count
    low = is_low_rated(average, count)
    await repository.set_rating_average(session, technician_id, average, low)
    platform_count, platform_sum = await repository.count_platform_rating(session, score)
    if technician.search_cell:
        rated = technician.model_copy(update={"rating_average": average})
        cell, entry = search_entry(rated)
        await repository.move_search_entry(session, technician_id, technician.search_cell,
                                           cell, entry)
    return RatingFigures(
        technician_id=technician_id, count=count, sum=total, average=average,
        distribution=dict(technician.rating_distribution), platform_count=platform_count,
        platform_sum=platform_sum, low=low, low_alerted=technician.low_rating_alerted and low,
    )


async def review_low_rating(figures: RatingFigures) -> None:
    """Alert the admins (kind technician_low_rating) when a rating made the technician
    low-rated: once per low spell (the technician's flag, cleared when the average recovers),
    and never two open alerts at once (the alerts' open key)."""
    if not figures.low or figures.low_alerted:
        return
    config = settings().repairs
    await alerts_service.raise_alert(
        AlertKind.TECHNICIAN_LOW_RATING, "technician", figures.technician_id,
        f"Technician {figures.technician_id} averages {figures.average:.2f} over "
        f"{figures.count} ratings (under {config.low_rating_threshold:g}): review",
        {"average": round(figures.average, 2), "count": figures.count,
         "threshold": config.low_rating_threshold, "minCount": config.low_rating_min_count},
    )
    await repository.mark_low_rating_alerted(figures.technician_id)
