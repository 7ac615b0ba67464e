"""The one helper services and jobs emit Socket.IO events through.

With REDIS_URL set the server's manager is `AsyncRedisManager`, so an emit here reaches the
room's clients on every instance, not only those connected to this process.
"""

import logging
from typing import Any

import socketio

log = logging.getLogger(__name__)

_server: socketio.AsyncServer | None = None


def use_server(server: socketio.AsyncServer | None) -> None:
    """The app's Socket.IO server; set by create_app."""
    global _server
    _server = server


def user_room(user_id: str) -> str:
    return f"user:{user_id}"


async def emit_to_user(user_id: str, event: str, data: Any) -> None:
    """Push `event` to the user's connected clients; best effort (the caller has stored it)."""
    if _server is None:
        return
    try:
        await _server.emit(event, data, room=user_room(user_id))
    except Exception:
        log.warning("could not emit a real-time event", exc_info=True, extra={"event": event})
