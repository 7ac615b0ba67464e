"""The Socket.IO server, mounted beside FastAPI on the same ASGI app.

Clients connect with `auth={"token": "<accessToken>"}`; each joins its own `user:{id}` room
and its sign-in session's `session:{sid}` room (so ending the session or suspending the
account disconnects it). Job, chat and call rooms are added by the domains that own them.
"""

from typing import Any

import engineio
import socketio
from socketio import packet

from app.core.config import Settings, settings
from app.core.permissions import REFUSED_ACCOUNT_STATUSES
from app.core.security import decode_access_token
from app.realtime.events import (
    DISCONNECT_ROOM_EVENT,
    disconnect_local_members,
    session_room,
    user_room,
)
from app.realtime.handlers import EventWindow, install
from app.users import service as users_service


class FanOutManager(socketio.AsyncManager):
    """Sends a room-wide event by handing the one encoded packet to each member's Engine.IO
    queue in turn, instead of python-socketio's one asyncio task per member: a hand-off never
    waits (the queues are unbounded), and a task per member was most of the API's CPU when
    one message goes to hundreds of clients. Events with an ack callback keep the stock path.
    """

    async def emit(self, event: str, data: Any, namespace: str, room: str | None = None,
                   skip_sid: Any = None, callback: Any = None, to: str | None = None,
                   **kwargs: Any) -> None:
        if callback is not None or namespace not in self.rooms:
            await super().emit(event, data, namespace, room=room, skip_sid=skip_sid,
                               callback=callback, to=to, **kwargs)
            return
        if isinstance(data, tuple):
            data = list(data)
        elif data is not None:
            data = [data]
        else:
            data = []
        skipped = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        encoded = self.server.packet_class(
            packet.EVENT, namespace=namespace, data=[event, *data]).encode()
        frames = [engineio.packet.Packet(engineio.packet.MESSAGE, part)
                  for part in (encoded if isinstance(encoded, list) else [encoded])]
        for sid, eio_sid in list(self.get_participants(namespace, to or room)):
            if sid in skipped:
                continue
            for frame in frames:
                try:
                    await self.server._send_eio_packet(eio_sid, frame)
                except engineio.exceptions.EngineIOError:
                    break  # that member's socket closed meanwhile; the others still get it


class RoomDisconnectingRedisManager(socketio.AsyncRedisManager, FanOutManager):
    """The Redis manager, plus room-wide disconnects: `DISCONNECT_ROOM_EVENT` arrives on every
    instance like any emit, and each disconnects its own members of the room instead of
    sending the event to them."""

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        if message.get("event") == DISCONNECT_ROOM_EVENT:
            room = message.get("room")
            if isinstance(room, str) and self.server is not None:
                await disconnect_local_members(self.server, room)
            return
        await super()._handle_emit(message)


async def authenticate(auth: Any) -> dict[str, Any]:
    """The session of a connecting client, refused unless its token, its sign-in session and
    its account are good."""
    token = auth.get("token") if isinstance(auth, dict) else None
    if not isinstance(token, str):
        raise socketio.exceptions.ConnectionRefusedError("authentication required")
    claims = decode_access_token(settings().auth.jwt_secret.get_secret_value(), token)
    if claims is None:
        raise socketio.exceptions.ConnectionRefusedError("invalid or expired token")
    # As on HTTP, a suspension takes effect at once, even while the token is still valid.
    user = await users_service.get_account(claims.sub)
    if user is None or user.status in REFUSED_ACCOUNT_STATUSES:
        raise socketio.exceptions.ConnectionRefusedError("this account is not active")
    if claims.sid not in user.session_ids:
        raise socketio.exceptions.ConnectionRefusedError("this session has ended")
    return {"userId": user.id, "role": user.role.value, "sessionId": claims.sid,
            "actor": users_service.actor_of(user, claims.sid)}


def create_socketio_server(config: Settings) -> socketio.AsyncServer:
    manager = (RoomDisconnectingRedisManager(config.redis_url) if config.redis_url
               else FanOutManager())
    sio = socketio.AsyncServer(
        async_mode="asgi",
        # None means same-origin only; an empty list would switch the Origin check off.
        cors_allowed_origins=config.cors_origins or None,
        client_manager=manager,
        # Engine.IO drops a connection whose message exceeds its buffer; keep it well above
        # the handlers' own limit so an oversized event is refused in its ack instead.
        max_http_buffer_size=16 * config.realtime.max_event_bytes,
    )

    @sio.event
    async def connect(sid: str, environ: dict[str, Any], auth: Any) -> None:
        session = await authenticate(auth)
        await sio.save_session(sid, {**session, "events": EventWindow()})
        await sio.enter_room(sid, user_room(session["userId"]))
        await sio.enter_room(sid, session_room(session["sessionId"]))

    install(sio)
    return sio
