"""Technician reads and the rules every use case shares: who may be found, the rating.

The use cases live beside this module: `onboarding.py` (profile, approval), `location.py`
(fixes and spoofing), `availability.py`, `nearby.py` (the exact search). Queries live in
`repository.py`, the state table in `transitions.py`. Other domains call the functions of
these modules, never the repository.
"""

from datetime import datetime, timedelta

from app.core import clock
from app.core.config import settings
from app.core.database import Session
from app.core.pagination import PageRequest
from app.core.permissions import SYSTEM_ACTOR, Actor
from app.core.queues import QueuePosition, Waiting
from app.technicians import repository
from app.technicians.exceptions import TechnicianNotFound
from app.technicians.geodesy import coarse_cell_of
from app.technicians.models import Fix, SearchEntry, Skill, Technician, TechnicianStatus
from app.technicians.schemas import RatingRead, TechnicianPublic, TechnicianRead

# A fix this precise or better (metres) is accurate; a worse one is kept but not searchable.
ACCURATE_WITHIN_M = 100.0


# --- rules shared by the use cases --------------------------------------------------------


def bayesian_rating(average: float, count: int, mean: float | None = None) -> float:
    """(C·m + Σ scores) / (C + n), Σ scores = average·count: C = RATING_PRIOR_WEIGHT, m =
    `mean` (the platform-wide mean, `await platform_mean()`), RATING_PRIOR_MEAN if not given.

    A technician with few ratings sits near the platform's mean and moves toward its own
    average as ratings come in, so one 5-star rating does not outrank a hundred 4.8s. Pure:
    callers that rank many technicians read the mean once and pass it."""
    config = settings().technicians
    weight = config.rating_prior_weight
    prior = config.rating_prior_mean if mean is None else mean
    if weight + count == 0:
        return prior
    return (weight * prior + average * count) / (weight + count)


def mean_of(count: int, total: int) -> float:
    """The platform-wide mean of `count` ratings summing to `total` (the prior mean, setting
    RATING_PRIOR_MEAN, while there is none)."""
    return total / count if count > 0 else settings().technicians.rating_prior_mean


async def platform_mean() -> float:
    """m of the Bayesian rating: the mean of every rating on the platform, read from the one
    stats document the ratings keep (never a scan)."""
    count, total = await repository.rating_stats()
    return mean_of(count, total)


def rating_of(average: float, count: int, mean: float | None = None) -> RatingRead:
    """The rating shown: average and Bayesian score rounded to 2 decimals (`mean`: see
    `bayesian_rating`)."""
    return RatingRead(average=round(average, 2), count=count,
                      bayesian=round(bayesian_rating(average, count, mean), 2))


def fresh_since(now: datetime | None = None) -> datetime:
    """Fixes recorded at or after this are fresh (LOCATION_FRESH_SECONDS)."""
    return (now or clock.utcnow()) - timedelta(seconds=settings().technicians.location_fresh_seconds)


def search_cell_for(status: TechnicianStatus, available: bool, fix: Fix | None) -> str | None:
    """The cell under which the search finds the technician, or None while it must not:
    approved, available and its latest fix accurate (freshness is checked at search)."""
    if status is TechnicianStatus.APPROVED and available and fix is not None and fix.accurate:
        return fix.h3_cell
    return None


def search_entry(
    technician: Technician, *, available: bool | None = None, fix: Fix | None = None,
    skills: list[Skill] | None = None,
) -> tuple[str | None, SearchEntry | None]:
    """The search cell and entry of `technician` once `available`, `fix` and `skills` (those
    given) are changed; (None, None) while it must not be found."""
    fix = fix or technician.last_fix
    available = technician.available if available is None else available
    cell = search_cell_for(technician.status, available, fix)
    if cell is None or fix is None:
        return None, None
    return cell, SearchEntry(
        id=technician.id, name=technician.name, skills=skills or technician.skills,
        lat=fix.lat, lng=fix.lng, at=fix.recorded_at, rating_average=technician.rating_average,
        rating_count=technician.rating_count, coarse_cell=coarse_cell_of(fix.lat, fix.lng),
    )


def is_searchable(technician: Technician, now: datetime | None = None) -> bool:
    """Found by nearby search and matching now: approved, available, latest fix accurate
    and fresh."""
    fix = technician.last_fix
    return (search_cell_for(technician.status, technician.available, fix) is not None
            and fix is not None and fix.recorded_at >= fresh_since(now))


# --- reading -------------------------------------------------------------------------------


def read_model(technician: Technician, viewer: Actor | None,
               mean: float | None = None) -> TechnicianRead:
    return TechnicianRead.of(technician, viewer,
                             rating_of(technician.rating_average, technician.rating_count, mean),
                             is_searchable(technician))


def public_model(technician: Technician, mean: float | None = None) -> TechnicianPublic:
    return TechnicianPublic(
        id=technician.id, name=technician.name, skills=technician.skills,
        specialities=technician.specialities, bio=technician.bio, status=technician.status,
        rating=rating_of(technician.rating_average, technician.rating_count, mean),
        jobs_completed=technician.jobs_completed,
    )


async def shown(technician: Technician, viewer: Actor | None) -> TechnicianRead | TechnicianPublic:
    """What `viewer` sees of the technician (the whole profile for its owner and admins), its
    Bayesian rating over the current platform-wide mean."""
    mean = await platform_mean()
    if can_see_private(viewer, technician):
        return read_model(technician, viewer, mean)
    return public_model(technician, mean)


async def shown_private(technician: Technician, viewer: Actor | None) -> TechnicianRead:
    """The whole profile (for its owner and admins), rated over the platform-wide mean."""
    return read_model(technician, viewer, await platform_mean())


async def shown_list(technicians: list[Technician], viewer: Actor) -> list[TechnicianRead]:
    mean = await platform_mean()
    return [read_model(t, viewer, mean) for t in technicians]


def can_see_private(actor: Actor | None, technician: Technician) -> bool:
    return repository.sees_private(actor, technician)


async def get_visible(actor: Actor | None, technician_id: str) -> Technician:
    """Approved technicians are visible to anyone signed in; others to their owner and admins."""
    technician = await repository.get_visible(actor, technician_id)
    if technician is None:
        raise TechnicianNotFound
    return technician


async def get_private(actor: Actor, technician_id: str) -> Technician:
    """The technician if `actor` is its owner or an admin; 404 otherwise."""
    technician = await repository.get_private(actor, technician_id)
    if technician is None:
        raise TechnicianNotFound
    return technician


async def get_own(actor: Actor) -> Technician:
    """The caller's own technician profile, whatever its status."""
    technician = (await repository.get_private(actor, actor.technician_id)
                  if actor.technician_id else None)
    if technician is None:
        raise TechnicianNotFound("You have not submitted a technician profile yet")
    return technician


async def get_technician(technician_id: str) -> Technician | None:
    """Any technician, whatever its status (for other domains' rules, not for showing)."""
    return await repository.get_visible(SYSTEM_ACTOR, technician_id)


async def tiers_in_use(tiers: set[str]) -> set[str]:
    """Platform rules' technician tier usage: the tiers some technician is still on."""
    return await repository.tiers_in_use(sorted(tiers))


async def list_technicians(
    actor: Actor, status: TechnicianStatus | None, skill: Skill | None, page: PageRequest
) -> tuple[list[Technician], str | None]:
    return await repository.page(actor, status, skill, page)


async def count_completed_job(session: Session, technician_id: str) -> None:
    """A repair of the technician was completed: its public `jobsCompleted` goes up by one,
    in the caller's transaction."""
    await repository.count_completed_job(session, technician_id)


async def awaiting_approval(actor: Actor, after: QueuePosition | None, limit: int) -> list[Waiting]:
    """Technicians pending approval, oldest first (the admins' approval queue)."""
    return await repository.awaiting_approval(actor, after, limit)


async def count_awaiting_approval(actor: Actor) -> int:
    return await repository.count_awaiting_approval(actor)
