"""Beanie documents of this domain, their indexes, and `DOCUMENTS` for init_beanie."""

from datetime import datetime

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.core import clock
from app.core.ids import new_id


class Rating(Document):
    """A customer's rating of a completed repair's technician (one per repair). Comments an
    admin hid stay here (`comments_hidden`), and are shown to nobody in the public list."""

    id: str = Field(default_factory=lambda: new_id("rat"))
    repair_id: str
    technician_id: str  # tch_…
    customer_id: str
    score: int
    comments: str | None = None
    comments_hidden: bool = False
    hidden_reason: str | None = None
    hidden_by: str | None = None
    hidden_at: datetime | None = None
    version: int = 1
    created_at: datetime = Field(default_factory=clock.utcnow)
    updated_at: datetime = Field(default_factory=clock.utcnow)

    class Settings:
        name = "ratings"
        indexes = [
            # Once per repair: two concurrent posts cannot both be inserted.
            IndexModel([("repair_id", ASCENDING)], unique=True, name="one_per_repair"),
            IndexModel([("technician_id", ASCENDING), ("created_at", DESCENDING),
                        ("_id", DESCENDING)], name="by_technician"),
        ]


DOCUMENTS: list[type] = [Rating]
