"""Keyset (cursor) pagination over one sort field plus `_id` as the tie-breaker."""

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Query
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection

from app.core.errors import BadRequest

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


@dataclass(frozen=True)
class PageRequest:
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


def encode_cursor(value: Any, doc_id: Any, sort: str | None = None) -> str:
    payload: dict[str, Any] = (
        {"t": value.isoformat(), "id": doc_id} if isinstance(value, datetime)
        else {"v": value, "id": doc_id}
    )
    if sort is not None:
        payload["s"] = sort
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


SCALARS = (str, int, float, bool, type(None))


def decode_cursor(cursor: str, sort: str | None = None) -> tuple[Any, str]:
    """(sort value, id) of a cursor made for `sort`; 400 unless both are plain values, so
    that a crafted cursor can never put an operator into a query."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded))
        if payload.get("s") != sort:
            raise ValueError("a cursor of another sort order")
        doc_id = payload["id"]
        if not isinstance(doc_id, str):
            raise TypeError("id")
        if "t" in payload:
            if not isinstance(payload["t"], str):
                raise TypeError("t")
            return datetime.fromisoformat(payload["t"]), doc_id
        value = payload["v"]
        if not isinstance(value, SCALARS):
            raise TypeError("v")
        return value, doc_id
    except (ValueError, KeyError, TypeError, AttributeError):
        raise BadRequest("Invalid cursor") from None


def _after(field: str, direction: int, value: Any, doc_id: Any) -> dict[str, Any]:
    op = "$lt" if direction == DESCENDING else "$gt"
    return {"$or": [{field: {op: value}}, {field: value, "_id": {op: doc_id}}]}


async def paginate(
    collection: AsyncCollection,
    query: dict[str, Any],
    page: PageRequest,
    sort_field: str = "created_at",
    direction: int = DESCENDING,
    projection: dict[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Return one page of raw documents and the cursor of the next page (or None)."""
    if page.cursor:
        value, doc_id = decode_cursor(page.cursor)
        query = {"$and": [query, _after(sort_field, direction, value, doc_id)]}
    sort = [(sort_field, direction), ("_id", direction)]
    cursor = collection.find(query, projection).sort(sort).limit(page.limit + 1)
    docs = await cursor.to_list()
    if len(docs) <= page.limit:
        return docs, None
    docs = docs[: page.limit]
    last = docs[-1]
    return docs, encode_cursor(_sort_value(last, sort_field), last["_id"])


def _sort_value(doc: dict[str, Any], field: str) -> Any:
    value: Any = doc
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


__all__ = ["ASCENDING", "DESCENDING", "PageRequest", "Pagination", "paginate"]


def page_params(
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page"),
    cursor: str | None = Query(None, max_length=512, description="nextCursor of the last page"),
) -> PageRequest:
    return PageRequest(limit=limit, cursor=cursor)


Pagination = Annotated[PageRequest, Depends(page_params)]


def match(
    equals: dict[str, Any],
    time_field: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """A list filter: each given field equal to its value (None means any; enums by value),
    and `time_field` within [since, until)."""
    query = {name: getattr(value, "value", value) for name, value in equals.items()
             if value is not None}
    window = {op: bound for op, bound in (("$gte", since), ("$lt", until)) if bound is not None}
    if time_field and window:
        query[time_field] = window
    return query
