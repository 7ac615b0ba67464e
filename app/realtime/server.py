"""The Socket.IO server, mounted beside FastAPI on the same ASGI app.

Clients connect with `auth={"token": "<accessToken>"}`; each joins its own `user:{id}` room.
Job, chat and call rooms are added by the domains that own them.
"""

from typing import Any

import socketio

from app.core.config import Settings, settings
from app.core.security import decode_access_token


def create_socketio_server(config: Settings) -> socketio.AsyncServer:
    manager = socketio.AsyncRedisManager(config.redis_url) if config.redis_url else None
    sio = socketio.AsyncServer(
        async_mode="asgi",
        cors_allowed_origins=config.cors_origins,
        client_manager=manager,
    )

    @sio.event
    async def connect(sid: str, environ: dict[str, Any], auth: dict[str, Any] | None) -> None:
        token = (auth or {}).get("token") if isinstance(auth, dict) else None
        claims = decode_access_token(settings().auth.jwt_secret.get_secret_value(), token or "")
        if claims is None:
            raise socketio.exceptions.ConnectionRefusedError("authentication required")
        await sio.save_session(sid, {"userId": claims.sub, "role": claims.role})
        await sio.enter_room(sid, f"user:{claims.sub}")

    return sio
