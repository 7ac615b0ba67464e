"""Resource ids: a short type prefix and an ObjectId, so a leaked id says what it is."""

from bson import ObjectId


def new_id(prefix: str) -> str:
    return f"{prefix}_{ObjectId()}"
