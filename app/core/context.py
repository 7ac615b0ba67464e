"""Per-request context: trace id, client address and user agent, bound into every log line."""

import re
import secrets
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestSource:
    ip: str | None = None
    user_agent: str | None = None
    trace_id: str | None = None


_source: ContextVar[RequestSource] = ContextVar("request_source", default=RequestSource())
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def new_trace_id() -> str:
    return secrets.token_hex(16)


def sane_request_id(candidate: str | None) -> str:
    """Accept a client's X-Request-ID only when it is a plain token; otherwise make one."""
    if candidate and _SANE_REQUEST_ID.match(candidate):
        return candidate
    return new_trace_id()


def set_source(source: RequestSource) -> object:
    return _source.set(source)


def reset_source(token: object) -> None:
    _source.reset(token)  # type: ignore[arg-type]


def current_source() -> RequestSource:
    return _source.get()


def current_trace_id() -> str:
    return _source.get().trace_id or ""
