"""HTTP only: parse the request, call the service, return the schema. No queries, no rules."""

from typing import Annotated

from fastapi import APIRouter, Path

from app.auth.dependencies import CurrentActor, require
from app.core.errors import responses
from app.core.pagination import Pagination
from app.core.permissions import Permission
from app.core.schemas import Envelope, ok
from app.ratings import service
from app.ratings.schemas import (
    CommentsModeration,
    RatingCreate,
    RatingModerated,
    RatingRead,
    TechnicianRatings,
)

router = APIRouter(tags=["Ratings"], responses=responses(401, 403))
RatingWriter = require(Permission.RATINGS_WRITE)
RatingModerator = require(Permission.RATINGS_MODERATE)


@router.post("/api/ratings", status_code=201, responses=responses(404, 409, 422))
async def rate_repair(body: RatingCreate, actor: RatingWriter) -> Envelope[RatingRead]:
    """Rate the technician of your completed repair: a whole score 1-5 and optional comments
    (at most 1,000 characters), once per repair, within RATING_WINDOW_DAYS of completion.

    404 for a repair that is not yours, 409 if it is not completed or already rated, 422
    `RATING_WINDOW_CLOSED` after the window."""
    rating = await service.rate_repair(actor, body)
    return ok(RatingRead.public(rating), "Thank you for rating")


@router.get("/api/ratings/{technicianId}", responses=responses(404))
async def technician_ratings(
    technician_id: Annotated[str, Path(alias="technicianId", max_length=64)],
    actor: CurrentActor, page: Pagination,
) -> Envelope[TechnicianRatings]:
    """A technician's average, count, Bayesian score (over the platform-wide mean), score
    distribution, and ratings newest first (hidden comments are null)."""
    return ok(await service.technician_ratings(actor, technician_id, page))


@router.patch("/api/ratings/{ratingId}", responses=responses(404, 409, 422))
async def moderate_comments(
    rating_id: Annotated[str, Path(alias="ratingId", max_length=64)],
    body: CommentsModeration, actor: RatingModerator,
) -> Envelope[RatingModerated]:
    """Hide a rating's comments from the public list (kept, audited with the reason), or
    show them again (admins with ops or compliance)."""
    rating = await service.moderate_comments(actor, rating_id, body)
    return ok(RatingModerated.model_validate(rating),
              "Comments hidden" if rating.comments_hidden else "Comments shown")
