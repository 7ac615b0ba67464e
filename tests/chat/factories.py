"""Chat stories: repair jobs made straight in the database (the repairs API is built
elsewhere), people signed in on the live server, and Socket.IO clients that join, send and
collect what the server pushes."""

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from bson import ObjectId

from app.core import clock
from app.repairs.models import IssueType, Repair, RepairMode, RepairStatus
from tests.helpers import Account, Api
from tests.live import LiveServer
from tests.realtime.test_socketio import SocketClient, socket_client

ACK_TIMEOUT = 10
RECEIVE_TIMEOUT = 10
_client_ids = itertools.count(1)


def client_message_id() -> str:
    return f"cm-{next(_client_ids)}-{clock.utcnow().timestamp():.6f}"


def repair_document(customer_id: str, technician_user_id: str | None,
                    status: RepairStatus = RepairStatus.IN_PROGRESS,
                    completed_at: datetime | None = None) -> Repair:
    return Repair(
        customer_id=customer_id, device_brand="Apple", device_model="iPhone 13",
        issue_type=IssueType.HARDWARE, issue_description="Cracked screen", mode=RepairMode.OFFLINE,
        status=status, technician_id="tch_test" if technician_user_id else None,
        technician_user_id=technician_user_id, completed_at=completed_at,
    )


def raw_repair(customer_id: str, technician_user_id: str) -> dict[str, Any]:
    """An assigned, in-progress repair as a plain document, for a database this process has
    not initialised Beanie on (the API runs in other processes)."""
    now = clock.utcnow()
    return {"_id": f"rep_{ObjectId()}", "customer_id": customer_id, "device_brand": "Apple",
            "device_model": "iPhone 13", "issue_type": IssueType.HARDWARE.value,
            "issue_description": "Cracked screen", "mode": RepairMode.OFFLINE.value,
            "status": RepairStatus.IN_PROGRESS.value, "status_history": [],
            "offered_technician_ids": [], "technician_id": "tch_test",
            "technician_user_id": technician_user_id, "order_ids": [], "cancellation_fee": 0,
            "version": 1, "created_at": now, "updated_at": now}


async def repair_job(customer: Account, technician: Account | None,
                     status: RepairStatus = RepairStatus.IN_PROGRESS,
                     completed_at: datetime | None = None) -> str:
    """A repair of `customer` assigned to `technician`, inserted as the repairs domain would."""
    repair = repair_document(customer.id, technician.id if technician else None, status,
                             completed_at)
    await repair.insert()
    return repair.id


@dataclass
class People:
    """A repair job's customer and technician, an admin (ops), and an outsider."""

    api: Api
    customer: Account
    technician: Account
    admin: Account
    outsider: Account
    job_id: str


async def repair_people(api: Api, **job: Any) -> People:
    customer, technician = await api.customer(), await api.technician()
    admin, outsider = await api.admin("ops"), await api.customer()
    job_id = await repair_job(customer, technician, **job)
    return People(api, customer, technician, admin, outsider, job_id)


@contextlib.asynccontextmanager
async def live_api(live: LiveServer) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=live.base_url, timeout=30) as http:
        yield Api(http)


class ChatClient:
    """A connected Socket.IO client of one account, with inboxes of the chat events."""

    EVENTS = ("chat:message", "chat:typing", "chat:read", "chat:status")

    def __init__(self, socket: SocketClient) -> None:
        self.socket = socket
        self.sio = socket.sio
        self.inbox = {event: socket.inbox(event) for event in self.EVENTS}

    async def call(self, event: str, data: Any) -> dict[str, Any]:
        ack = await self.sio.call(event, data, timeout=ACK_TIMEOUT)
        assert isinstance(ack, dict) and set(ack) in ({"ok", "data"}, {"ok", "error"}), ack
        return ack

    async def join(self, job_id: str) -> dict[str, Any]:
        return await self.call("chat:join", {"jobId": job_id})

    async def send(self, job_id: str, text: str | None = "Hello",
                   cmid: str | None = None, **extra: Any) -> dict[str, Any]:
        body = {"jobId": job_id, "clientMessageId": cmid or client_message_id(), **extra}
        if text is not None:
            body["text"] = text
        return await self.call("chat:send", body)

    async def next(self, event: str = "chat:message") -> Any:
        return await asyncio.wait_for(self.inbox[event].get(), RECEIVE_TIMEOUT)

    def nothing_in(self, event: str = "chat:message") -> bool:
        return self.inbox[event].empty()


@contextlib.asynccontextmanager
async def chat_client(live: LiveServer, account: Account) -> AsyncIterator[ChatClient]:
    async with socket_client() as socket:
        client = ChatClient(socket)
        await socket.connect(live, {"token": account.token})
        yield client


async def flushed(live: LiveServer, client: ChatClient, account: Account) -> None:
    """Wait until everything the server emitted so far has reached `client`: a probe sent to
    the account's own room after those emits arrives after them (one connection, in order)."""
    probes = client.socket.inbox("test:probe")
    await live.app.sio.emit("test:probe", {"n": 1}, room=f"user:{account.id}")
    await asyncio.wait_for(probes.get(), RECEIVE_TIMEOUT)


def ok_data(ack: dict[str, Any]) -> Any:
    assert ack["ok"] is True, ack
    return ack["data"]


def error_code(ack: dict[str, Any]) -> str:
    assert ack["ok"] is False and ack["error"]["message"], ack
    return ack["error"]["code"]
