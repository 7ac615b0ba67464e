"""The one helper services and jobs emit Socket.IO events (and end connections) through.

With REDIS_URL set the server's manager is `AsyncRedisManager`, so an emit here reaches the
room's clients on every instance, not only those connected to this process.
"""

import logging
from typing import Any

import socketio
from socketio.async_pubsub_manager import AsyncPubSubManager

log = logging.getLogger(__name__)

_server: socketio.AsyncServer | None = None

# An event no client ever receives: the Redis manager (app/realtime/server.py) takes it, on
# every instance, as "disconnect this room's local members". Rooms are per process, so a
# room-wide disconnect has to travel as a message like an emit does.
DISCONNECT_ROOM_EVENT = "__platform_disconnect_room__"


def use_server(server: socketio.AsyncServer | None) -> None:
    """The app's Socket.IO server; set by create_app."""
    global _server
    _server = server


def user_room(user_id: str) -> str:
    return f"user:{user_id}"


def session_room(session_id: str) -> str:
    return f"session:{session_id}"


async def emit_to_user(user_id: str, event: str, data: Any) -> bool:
    """Push `event` to the user's connected clients; best effort (the caller has stored it).
    False when it could not be handed to the server (or the message queue)."""
    if _server is None:
        return False
    try:
        await _server.emit(event, data, room=user_room(user_id))
    except Exception:
        log.warning("could not emit a real-time event", exc_info=True, extra={"event": event})
        return False
    return True


def connection_count() -> int:
    """Socket.IO connections open on this process."""
    return len(_server.eio.sockets) if _server is not None else 0


def job_room(job_id: str) -> str:
    return f"job:{job_id}"


async def emit_to_room(room: str, event: str, data: Any, skip_sid: str | None = None) -> None:
    """Push `event` to every client in `room` (on every instance with Redis), except the
    connection `skip_sid`; best effort (the caller has stored what it announces)."""
    if _server is None:
        return
    try:
        await _server.emit(event, data, room=room, skip_sid=skip_sid)
    except Exception:
        log.warning("could not emit a real-time event", exc_info=True,
                    extra={"event": event, "room": room})


async def disconnect_local_members(server: socketio.AsyncServer, room: str) -> None:
    """Disconnect this process's clients in `room` (namespace '/')."""
    members = [sid for sid, _ in server.manager.get_participants("/", room)]
    for sid in members:
        await server.disconnect(sid, namespace="/", ignore_queue=True)


async def disconnect_rooms(rooms: list[str]) -> None:
    """Disconnect every client in these rooms, on every instance; best effort, after the
    change that ended them has committed (a reconnect is refused by `connect` anyway)."""
    if _server is None:
        return
    for room in rooms:
        try:
            if isinstance(_server.manager, AsyncPubSubManager):
                await _server.emit(DISCONNECT_ROOM_EVENT, None, room=room)
            else:
                await disconnect_local_members(_server, room)
        except Exception:
            log.warning("could not disconnect a room", exc_info=True, extra={"room": room})


async def disconnect_user(user_id: str) -> None:
    """End every live Socket.IO connection of the account (suspension, block)."""
    await disconnect_rooms([user_room(user_id)])


async def disconnect_sessions(session_ids: list[str]) -> None:
    """End the live Socket.IO connections made with these sign-in sessions' tokens."""
    await disconnect_rooms([session_room(sid) for sid in session_ids])


async def close_room(room: str) -> None:
    """Take every client out of `room` (on every instance); best effort."""
    if _server is None:
        return
    try:
        await _server.close_room(room)
    except Exception:
        log.warning("could not close a room", exc_info=True, extra={"room": room})
