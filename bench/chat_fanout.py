"""`chat_fanout`: N Socket.IO clients in one job's chat room on one API process; one sender
posts a message, and each client's receipt is one unit: its latency is the time from the
send to that client's `chat:message`. The next message is sent once every client has it
(or after RECEIPT_TIMEOUT), so one message is in flight at a time.

The clients are python-socketio `AsyncClient`s over WebSocket in this process: the time a
receipt waits for this process's event loop (500 decodes per message) is part of what is
measured, so the figures are an upper bound of the server's own fan-out time.
"""

import asyncio
import itertools
import time
from typing import Any

import socketio

from bench.load import Measured, Meter, Outcome, record
from bench.scenarios import Context

CONNECT_BATCH = 25
CONNECT_TIMEOUT = 30
RECEIPT_TIMEOUT = 10.0
_messages = itertools.count(1)


class Room:
    """The connected clients of one job's room and the receipts of the message in flight."""

    def __init__(self, measured: Measured) -> None:
        self.measured = measured
        self.clients: list[socketio.AsyncClient] = []
        self.sent_at: dict[str, float] = {}
        self.pending = 0
        self.all_in = asyncio.Event()
        self.round: list[float] = []  # the receipts of the message in flight

    def receive(self, message: dict[str, Any]) -> None:
        sent = self.sent_at.get(message.get("clientMessageId", ""))
        if sent is None:
            return  # a message of an earlier round that timed out
        latency = time.perf_counter() - sent
        self.measured.latencies.append(latency)
        self.round.append(latency)
        record(self.measured, Outcome(True, "received"))
        self.pending -= 1
        if self.pending == 0:
            self.all_in.set()

    async def connect(self, base: str, token: str, job_id: str) -> None:
        client = socketio.AsyncClient(reconnection=False, handle_sigint=False)

        async def on_message(message: dict[str, Any]) -> None:
            self.receive(message)

        client.on("chat:message", on_message)
        await client.connect(base, auth={"token": token}, transports=["websocket"],
                             wait_timeout=CONNECT_TIMEOUT)
        joined = await client.call("chat:join", {"jobId": job_id}, timeout=CONNECT_TIMEOUT)
        if not joined.get("ok"):
            raise RuntimeError(f"chat:join refused: {joined}")
        self.clients.append(client)

    async def close(self) -> None:
        await asyncio.gather(*(client.disconnect() for client in self.clients),
                             return_exceptions=True)


async def chat_fanout(ctx: Context, name: str, clients: int) -> Measured:
    buyer, job_id = ctx.seeded.orders[0]
    tokens = [buyer.token, ctx.seeded.admin.token]  # both take part in the order's chat
    measured = Measured(name, clients, ctx.seconds)
    room = Room(measured)
    sender = socketio.AsyncClient(reconnection=False, handle_sigint=False)
    try:
        started = time.perf_counter()
        for first in range(0, clients, CONNECT_BATCH):
            batch = range(first, min(clients, first + CONNECT_BATCH))
            await asyncio.gather(*(room.connect(ctx.base, tokens[i % 2], job_id) for i in batch))
        connecting = time.perf_counter() - started
        await sender.connect(ctx.base, auth={"token": buyer.token}, transports=["websocket"],
                             wait_timeout=CONNECT_TIMEOUT)
        measured.notes.append(f"{clients} clients connected and joined in {connecting:.1f} s")
        meter = Meter(ctx.server)
        meter.start()
        started = time.perf_counter()
        messages = 0
        acks: list[float] = []
        firsts: list[float] = []  # per message: send → the first client's receipt
        spreads: list[float] = []  # per message: first receipt → last receipt
        while time.perf_counter() - started < ctx.seconds:
            cmid = f"bench-{next(_messages)}-{time.time_ns()}"
            room.pending, room.sent_at = clients, {cmid: time.perf_counter()}
            room.all_in.clear()
            room.round = []
            sent = room.sent_at[cmid]
            ack = await sender.call("chat:send", {"jobId": job_id, "text": f"fan-out {messages}",
                                                  "clientMessageId": cmid}, timeout=RECEIPT_TIMEOUT)
            acks.append(time.perf_counter() - sent)
            if not ack.get("ok"):
                record(measured, Outcome(False, "refused", str(ack)))
                break
            try:
                await asyncio.wait_for(room.all_in.wait(), RECEIPT_TIMEOUT)
            except TimeoutError:
                for _ in range(room.pending):
                    record(measured, Outcome(False, "not received",
                                             f"{room.pending} clients without the message"))
            if room.round:
                firsts.append(min(room.round))
                spreads.append(max(room.round) - min(room.round))
            messages += 1
        measured.elapsed = time.perf_counter() - started
        meter.stop(measured)
        measured.notes.append(
            f"{messages} messages × {clients} clients; per message, p50: the sender's ack "
            f"{_median(acks):.1f} ms, the first receipt {_median(firsts):.1f} ms, first to "
            f"last receipt {_median(spreads):.1f} ms" if acks else "no message sent")
    finally:
        await sender.disconnect()
        await room.close()
    return measured


def _median(values: list[float]) -> float:
    """In milliseconds; NaN for none."""
    if not values:
        return float("nan")
    return sorted(values)[len(values) // 2] * 1000
