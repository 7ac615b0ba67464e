"""A signed-in python-socketio client of a live server that keeps its `notification` events."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import socketio

from tests.helpers import Account
from tests.live import LiveServer

TIMEOUT = 10


class Listener:
    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
        self.notifications: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sio.on("notification", self.notifications.put)

    async def next(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.notifications.get(), TIMEOUT)


@contextlib.asynccontextmanager
async def listening(server: LiveServer, account: Account) -> AsyncIterator[Listener]:
    listener = Listener()
    await listener.sio.connect(server.base_url, auth={"token": account.token},
                               transports=["websocket"], wait_timeout=TIMEOUT)
    try:
        yield listener
    finally:
        await listener.sio.disconnect()
