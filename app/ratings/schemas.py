"""Request and response models of the ratings API (what the client sends and sees)."""

from datetime import datetime
from typing import Annotated

from pydantic import Field

from app.core.schemas import APIModel
from app.core.validators import Reason
from app.ratings.models import Rating

COMMENTS_MAX = 1000
# Strict: 4.5, "5" and true are refused (422), not rounded or coerced.
Score = Annotated[int, Field(strict=True, ge=1, le=5, description="1 to 5 (an integer)")]


class RatingCreate(APIModel):
    repair_id: str = Field(min_length=1, max_length=64)
    score: Score
    comments: str | None = Field(default=None, max_length=COMMENTS_MAX)


class CommentsModeration(APIModel):
    comments_hidden: bool = Field(description="true hides the comments from the public list "
                                  "(kept in the database); false shows them again")
    reason: Reason


class RatingRead(APIModel):
    """A rating as anyone signed in sees it: hidden comments are null."""

    id: str
    repair_id: str
    technician_id: str
    score: int
    comments: str | None
    comments_hidden: bool
    created_at: datetime

    @classmethod
    def public(cls, rating: Rating) -> "RatingRead":
        shown = cls.model_validate(rating)
        if rating.comments_hidden:
            shown.comments = None
        return shown


class RatingModerated(RatingRead):
    """What moderators see: the kept comments and why they were hidden."""

    customer_id: str
    hidden_reason: str | None
    hidden_by: str | None
    hidden_at: datetime | None


class TechnicianRatings(APIModel):
    average: float = Field(description="mean score, rounded to 2 decimals")
    count: int
    bayesian: float = Field(description="(C·m + Σ scores) / (C + count), rounded to 2 decimals: "
                            "C = RATING_PRIOR_WEIGHT, m the platform-wide mean of all ratings")
    distribution: dict[str, int] = Field(description='ratings per score, "1" to "5"')
    items: list[RatingRead] = Field(description="newest first")
    next_cursor: str | None = None
