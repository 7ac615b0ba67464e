"""Signed-in python-socketio clients of a live server, keeping what each receives."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import socketio

from tests.helpers import Account
from tests.live import LiveServer

TIMEOUT = 10
CALL_EVENTS = ("call:incoming", "call:status", "call:offer", "call:answer", "call:ice")


class Peer:
    """One account's Socket.IO connection; `inbox[event]` holds what it was sent."""

    def __init__(self, account: Account) -> None:
        self.account = account
        self.sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
        self.inbox: dict[str, asyncio.Queue[Any]] = {}
        for event in CALL_EVENTS:
            self.listen(event)

    def listen(self, event: str) -> asyncio.Queue[Any]:
        if event not in self.inbox:
            queue: asyncio.Queue[Any] = asyncio.Queue()
            self.inbox[event] = queue
            self.sio.on(event, queue.put)
        return self.inbox[event]

    async def connect(self, server: LiveServer) -> "Peer":
        await self.sio.connect(server.base_url, auth={"token": self.account.token},
                               transports=["websocket"], wait_timeout=TIMEOUT)
        return self

    async def ask(self, event: str, data: Any) -> dict[str, Any]:
        """Send `event` and return its acknowledgement."""
        ack = await self.sio.call(event, data, timeout=TIMEOUT)
        assert isinstance(ack, dict) and "ok" in ack, ack
        return ack

    async def ok(self, event: str, data: Any) -> Any:
        ack = await self.ask(event, data)
        assert ack["ok"] is True, ack
        return ack["data"]

    async def refused(self, event: str, data: Any) -> str:
        """The error code of a refused event."""
        ack = await self.ask(event, data)
        assert ack["ok"] is False and ack["error"]["message"], ack
        return ack["error"]["code"]

    async def next(self, event: str) -> Any:
        return await asyncio.wait_for(self.inbox[event].get(), TIMEOUT)

    def received_nothing(self) -> bool:
        return all(queue.empty() for queue in self.inbox.values())


@contextlib.asynccontextmanager
async def peers(server: LiveServer, *accounts: Account) -> AsyncIterator[list[Peer]]:
    connected = [Peer(account) for account in accounts]
    try:
        for peer in connected:
            await peer.connect(server)
        yield connected
    finally:
        for peer in connected:
            await peer.sio.disconnect()
