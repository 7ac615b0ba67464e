"""Rating a completed repair's technician, reading a technician's ratings, and moderating
comments.

Who may rate: only the customer of a `completed` repair (anyone else's repair: 404; not
completed: 409, an illegal state, as an order that cannot be disputed in its state), once per
repair (409, the unique index settles two concurrent posts), within RATING_WINDOW_DAYS of its
completion (422 `RATING_WINDOW_CLOSED`, a rule, as the dispute window is). The rating, the
technician's and the platform's figures (`technicians.reputation`) and the audit entry commit
in one transaction; the low-rating review alert follows the commit.
"""

from datetime import timedelta

from pymongo.errors import DuplicateKeyError

from app.audit import service as audit
from app.core import clock
from app.core.config import settings
from app.core.database import Session, transaction
from app.core.pagination import PageRequest
from app.core.permissions import Actor
from app.ratings import repository
from app.ratings.exceptions import (
    RATING_WINDOW_CLOSED,
    CommentsAlreadyInState,
    RatedRepairNotFound,
    RatingNotFound,
    RatingWindowClosed,
    RepairAlreadyRated,
    RepairNotRateable,
)
from app.ratings.models import Rating
from app.ratings.schemas import CommentsModeration, RatingCreate, RatingRead, TechnicianRatings
from app.repairs.models import Repair, RepairStatus
from app.repairs.service import get_repair
from app.technicians import reputation
from app.technicians import service as technicians_service
from app.technicians.models import SCORES


def _check_rateable(actor: Actor, repair: Repair | None) -> Repair:
    if repair is None or repair.customer_id != actor.id:
        raise RatedRepairNotFound
    if repair.status is not RepairStatus.COMPLETED or repair.technician_id is None:
        raise RepairNotRateable(
            f"A {repair.status.value} repair cannot be rated: only a completed one can",
            {"status": repair.status.value},
        )
    completed_at = repair.completed_at or repair.updated_at
    days = settings().ratings.window_days
    closes_at = completed_at + timedelta(days=days)
    if clock.utcnow() > closes_at:
        raise RatingWindowClosed(
            f"Ratings are accepted for {days} day(s) after completion; this window closed at "
            f"{closes_at.isoformat()}",
            {"ruleFlags": [RATING_WINDOW_CLOSED], "completedAt": completed_at.isoformat(),
             "windowClosesAt": closes_at.isoformat(), "ratingWindowDays": days},
        )
    return repair


async def rate_repair(actor: Actor, data: RatingCreate) -> Rating:
    """Rate the technician of the caller's completed repair (once, within the window)."""
    repair = _check_rateable(actor, await get_repair(data.repair_id))
    technician_id = repair.technician_id
    assert technician_id is not None
    comments = data.comments or None
    await reputation.prepare_rating()

    async def work(session: Session) -> tuple[Rating, reputation.RatingFigures]:
        # A fresh document each attempt: the callback may run again after a write conflict.
        rating = Rating(repair_id=repair.id, technician_id=technician_id, customer_id=actor.id,
                        score=data.score, comments=comments)
        try:
            await repository.insert(session, rating)
        except DuplicateKeyError:
            raise RepairAlreadyRated(data={"repairId": repair.id}) from None
        figures = await reputation.record_rating(session, technician_id, data.score)
        await audit.record(
            session, actor=actor, action="rating.created", subject_type="rating",
            subject_id=rating.id,
            metadata={"repairId": repair.id, "technicianId": technician_id, "score": data.score,
                      "technicianCount": figures.count, "technicianSum": figures.sum},
        )
        return rating, figures

    rating, figures = await transaction(work)
    await reputation.review_low_rating(figures)
    return rating


async def technician_ratings(actor: Actor, technician_id: str,
                             page: PageRequest) -> TechnicianRatings:
    """A technician's figures (kept counters, no scan), Bayesian score over the platform-wide
    mean, and its ratings newest first (hidden comments blanked). Unknown: 404."""
    technician = await technicians_service.get_visible(actor, technician_id)
    mean = await technicians_service.platform_mean()
    ratings, next_cursor = await repository.page_of_technician(technician.id, page)
    shown = technicians_service.rating_of(technician.rating_average, technician.rating_count,
                                          mean)
    return TechnicianRatings(
        average=shown.average, count=shown.count, bayesian=shown.bayesian,
        distribution={score: technician.rating_distribution.get(score, 0)
                      for score in SCORES},
        items=[RatingRead.public(r) for r in ratings], next_cursor=next_cursor,
    )


async def moderate_comments(actor: Actor, rating_id: str, change: CommentsModeration) -> Rating:
    """Hide a rating's comments from the public list (kept in the database), or show them
    again; audited with the moderator's reason."""
    rating = await repository.get(rating_id)
    if rating is None:
        raise RatingNotFound
    if rating.comments_hidden is change.comments_hidden:
        raise CommentsAlreadyInState(
            f"The comments are already {'hidden' if rating.comments_hidden else 'shown'}",
            {"commentsHidden": rating.comments_hidden})
    now = clock.utcnow()

    async def work(session: Session) -> None:
        if not await repository.set_comments_hidden(session, rating, change.comments_hidden,
                                                    change.reason, actor.id, now):
            raise CommentsAlreadyInState("The rating changed meanwhile; reload and retry")
        await audit.record(
            session, actor=actor,
            action="rating.comments_hidden" if change.comments_hidden else "rating.comments_shown",
            subject_type="rating", subject_id=rating.id, reason=change.reason,
            changes={"commentsHidden": {"from": rating.comments_hidden,
                                        "to": change.comments_hidden}},
            metadata={"technicianId": rating.technician_id, "repairId": rating.repair_id},
        )

    await transaction(work)
    refreshed = await repository.get(rating_id)
    if refreshed is None:
        raise RatingNotFound
    return refreshed
