"""How a domain answers a Socket.IO event: one wrapper for every client → server event.

A domain declares its events with `@socket_event("chat:send", ChatSend)`; `install` puts them
on the server. The wrapper resolves the caller (the `Actor` kept in the connection's session
at connect), enforces the per-connection event rate limit and the payload size limit,
validates the payload with the event's pydantic model and answers the client's ack:
`{"ok": true, "data": …}` or `{"ok": false, "error": {"code", "message"}}`. A bad event is
answered, never a reason to drop the connection.
"""

import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import socketio
from pydantic import BaseModel, ValidationError

from app.core.config import settings
from app.core.errors import AppError
from app.core.permissions import Actor

log = logging.getLogger(__name__)

Handler = Callable[["SocketCall", Any], Awaitable[Any]]


@dataclass(frozen=True)
class SocketCall:
    """Who sent the event, and on which connection."""

    sid: str
    actor: Actor
    server: socketio.AsyncServer


@dataclass(frozen=True)
class _Event:
    name: str
    model: type[BaseModel] | None
    handler: Handler


_EVENTS: dict[str, _Event] = {}


def socket_event(name: str, model: type[BaseModel] | None = None) -> Callable[[Handler], Handler]:
    """Declare `handler` as the answer to the client event `name`; its payload is parsed
    into `model` (camelCase aliases as on HTTP) before the handler sees it."""

    def declare(handler: Handler) -> Handler:
        _EVENTS[name] = _Event(name, model, handler)
        return handler

    return declare


def refusal(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message}}


def _payload_size(data: Any) -> int:
    try:
        return len(json.dumps(data, separators=(",", ":"), default=str).encode())
    except (TypeError, ValueError):
        return 0


class EventWindow:
    """The times of a connection's recent events (sliding window rate limit)."""

    def __init__(self) -> None:
        self.times: deque[float] = deque()

    def admit(self, limit: int, window_seconds: float) -> bool:
        now = time.monotonic()
        while self.times and now - self.times[0] >= window_seconds:
            self.times.popleft()
        if len(self.times) >= limit:
            return False
        self.times.append(now)
        return True


async def dispatch(server: socketio.AsyncServer, event: _Event, sid: str, data: Any) -> Any:
    config = settings().realtime
    session = await server.get_session(sid)
    actor: Actor | None = session.get("actor")
    if actor is None:
        return refusal("UNAUTHENTICATED", "Connect with a valid token first")
    window: EventWindow = session["events"]
    if settings().rate_limits.enabled and not window.admit(config.event_limit,
                                                            config.event_window_seconds):
        return refusal("RATE_LIMITED", f"More than {config.event_limit} events in "
                                       f"{config.event_window_seconds:g} s; slow down")
    if _payload_size(data) > config.max_event_bytes:
        return refusal("PAYLOAD_TOO_LARGE", f"Events are limited to {config.max_event_bytes} bytes")
    payload: Any = data
    if event.model is not None:
        try:
            payload = event.model.model_validate(data if data is not None else {})
        except ValidationError as exc:
            first = exc.errors()[0] if exc.errors() else {}
            where = ".".join(str(part) for part in first.get("loc", ()))
            return refusal("VALIDATION_ERROR",
                           f"{where}: {first.get('msg', 'invalid')}" if where else "Invalid payload")
    try:
        result = await event.handler(SocketCall(sid=sid, actor=actor, server=server), payload)
    except AppError as exc:
        return refusal(_code_of(exc), exc.message)
    except Exception:
        log.exception("socket event failed", extra={"event": event.name})
        return refusal("INTERNAL_ERROR", "Something went wrong; try again")
    return {"ok": True, "data": result}


def _code_of(exc: AppError) -> str:
    """The error code of the envelope's `data.code` when the error has one, else one made of
    its status (404 → NOT_FOUND)."""
    if isinstance(exc.data, dict) and isinstance(exc.data.get("code"), str):
        return exc.data["code"]
    return {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND",
            409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE", 422: "VALIDATION_ERROR",
            429: "RATE_LIMITED"}.get(exc.status_code, "ERROR")


def install(server: socketio.AsyncServer) -> None:
    """Put every declared event on the server (namespace '/')."""
    for event in _EVENTS.values():
        async def handle(sid: str, data: Any = None, _event: _Event = event) -> Any:
            return await dispatch(server, _event, sid, data)

        server.on(event.name, handle)
