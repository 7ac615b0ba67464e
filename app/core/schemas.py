"""Base models shared by every domain's API schemas: camelCase JSON, the envelope, pages."""

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from app.core.context import current_trace_id

T = TypeVar("T")

Paise = Annotated[int, Field(description="Amount in integer paise (49900 is ₹499.00)")]
UtcDatetime = Annotated[datetime, PlainSerializer(lambda value: value.isoformat(), return_type=str)]


def to_camel(name: str) -> str:
    """snake_case → camelCase, leaving letters after digits alone (b2b_price → b2bPrice)."""
    first, *rest = name.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


class APIModel(BaseModel):
    """camelCase on the wire; unknown request fields are rejected, never ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        from_attributes=True,
        str_strip_whitespace=True,
    )


class Envelope(BaseModel, Generic[T]):
    success: bool = True
    message: str = "OK"
    data: T | None = None
    trace_id: str = Field(default_factory=current_trace_id, serialization_alias="traceId")

    model_config = ConfigDict(populate_by_name=True)


class ErrorEnvelope(BaseModel):
    """Every error answer: `data` holds details such as `{errors: [{field, message}]}`."""

    success: bool = False
    message: str
    data: Any = None
    trace_id: str | None = Field(None, serialization_alias="traceId", alias="traceId")

    model_config = ConfigDict(populate_by_name=True)


class Page(APIModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def ok(data: Any = None, message: str = "OK") -> Envelope[Any]:
    return Envelope(data=data, message=message)
