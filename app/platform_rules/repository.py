"""Every query on the platform_rules collection: one document per named rule set.

Rule sets are platform-wide (every price and order follows them), so reads take no actor;
the routes that show or change them require their permissions.
"""

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from app.core import clock
from app.core.database import Session
from app.platform_rules.models import PlatformRule


def _collection() -> AsyncCollection:
    return PlatformRule.get_pymongo_collection()


async def load(name: str) -> dict[str, Any] | None:
    """The stored rules of the set `name`, or None when it was never changed."""
    stored = await _collection().find_one({"_id": name})
    return stored["rules"] if stored else None


async def load_many(names: list[str]) -> dict[str, dict[str, Any] | None]:
    """The stored rules of each set in `names` (None for a set never changed), in one read."""
    stored = {doc["_id"]: doc["rules"]
              async for doc in _collection().find({"_id": {"$in": names}})}
    return {name: stored.get(name) for name in names}


async def save(session: Session, name: str, rules: dict[str, Any], actor_id: str) -> None:
    await _collection().update_one(
        {"_id": name},
        {"$set": {"rules": rules, "updated_by": actor_id, "updated_at": clock.utcnow()},
         "$inc": {"version": 1}},
        upsert=True,
        session=session,
    )
