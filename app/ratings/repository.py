"""Every query on the ratings collection.

Ratings are public to anyone signed in (hidden comments blanked by the service), so reads
take no owner scope; writes are the service's, each in the transaction of its audit entry.
"""

from datetime import datetime

from pymongo.asynchronous.collection import AsyncCollection

from app.core.database import Session
from app.core.pagination import DESCENDING, PageRequest, paginate
from app.ratings.models import Rating


def _collection() -> AsyncCollection:
    return Rating.get_pymongo_collection()


async def get(rating_id: str) -> Rating | None:
    return await Rating.get(rating_id)


async def insert(session: Session, rating: Rating) -> None:
    """Raises DuplicateKeyError when the repair is rated already (`one_per_repair`)."""
    await rating.insert(session=session)


async def page_of_technician(technician_id: str,
                             page_request: PageRequest) -> tuple[list[Rating], str | None]:
    """One technician's ratings, newest first."""
    docs, next_cursor = await paginate(_collection(), {"technician_id": technician_id},
                                       page_request, sort_field="created_at",
                                       direction=DESCENDING)
    return [Rating.model_validate(doc) for doc in docs], next_cursor


async def set_comments_hidden(session: Session, rating: Rating, hidden: bool, reason: str,
                              by: str, at: datetime) -> bool:
    """Hide or show the comments, only if they are not so already (one moderator wins)."""
    result = await _collection().update_one(
        {"_id": rating.id, "comments_hidden": not hidden, "version": rating.version},
        {"$set": {"comments_hidden": hidden, "hidden_reason": reason if hidden else None,
                  "hidden_by": by if hidden else None, "hidden_at": at if hidden else None,
                  "updated_at": at},
         "$inc": {"version": 1}},
        session=session,
    )
    return result.modified_count == 1
