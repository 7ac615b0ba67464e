"""Two aiortc peers reach each other through this server alone: offer, answer and every ICE
candidate (trickled apart from the SDPs) travel as call:* events over python-socketio clients
against a live uvicorn on loopback; they connect and exchange data-channel messages, while a
third peer is refused and receives nothing."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp

from tests.calls.factories import moved, repair_job, started
from tests.calls.sockets import Peer, peers
from tests.helpers import Api, eventually
from tests.live import LiveServer

CONNECT_TIMEOUT = 30


@pytest.fixture
async def api(live_server: LiveServer) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as http:
        yield Api(http)


def split_candidates(sdp: str) -> tuple[str, list[dict[str, Any]]]:
    """The SDP without its candidates, and the candidates as RTCIceCandidate.toJSON() gives
    them: so ICE goes through `call:ice`, not inside the offer or answer."""
    kept, candidates, mid, index = [], [], None, -1
    for line in sdp.splitlines():
        if line.startswith("m="):
            index += 1
        elif line.startswith("a=mid:"):
            mid = line.removeprefix("a=mid:")
        if line.startswith("a=candidate:"):
            candidates.append({"candidate": line.removeprefix("a="), "sdpMid": mid,
                               "sdpMLineIndex": index})
            continue
        if line == "a=end-of-candidates":
            continue
        kept.append(line)
    return "\r\n".join(kept) + "\r\n", candidates


class RtcParty:
    """An aiortc peer whose only way to its counterpart is this server's call:* events."""

    def __init__(self, socket: Peer, call_id: str) -> None:
        self.socket, self.call_id = socket, call_id
        # No STUN: everything stays on this machine.
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pending: list[dict[str, Any] | None] = []
        self.messages: asyncio.Queue[str] = asyncio.Queue()
        self.signals: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        self.relayed_to_me: list[str] = []
        self.ice_sent = 0
        for event in ("call:offer", "call:answer", "call:ice"):
            # The client's read loop runs handlers inline: hand the work to our own task.
            socket.sio.on(event, self._enqueue(event))
        self.worker = asyncio.create_task(self._work())

    def _enqueue(self, event: str) -> Any:
        async def put(data: dict[str, Any]) -> None:
            self.relayed_to_me.append(event)
            await self.signals.put((event, data))

        return put

    async def send_description(self, event: str) -> None:
        sdp, candidates = split_candidates(self.pc.localDescription.sdp)
        assert "a=candidate" not in sdp and candidates
        await self.socket.ok(event, {"callId": self.call_id, "sdp": sdp})
        for candidate in [*candidates, None]:
            await self.socket.ok("call:ice", {"callId": self.call_id, "candidate": candidate})
            self.ice_sent += 1

    async def offer(self) -> None:
        channel = self.pc.createDataChannel("chat")
        channel.on("message", self.messages.put_nowait)
        channel.on("open", lambda: channel.send("hello from the caller"))
        await self.pc.setLocalDescription(await self.pc.createOffer())
        await self.send_description("call:offer")

    def answer_data_channel(self) -> None:
        @self.pc.on("datachannel")
        def on_channel(channel: Any) -> None:
            @channel.on("message")
            def on_message(message: str) -> None:
                self.messages.put_nowait(message)
                channel.send(f"echo: {message}")

    async def _work(self) -> None:
        while True:
            event, data = await self.signals.get()
            assert data["callId"] == self.call_id
            if event == "call:offer":
                await self.pc.setRemoteDescription(RTCSessionDescription(data["sdp"], "offer"))
                await self._flush()
                await self.pc.setLocalDescription(await self.pc.createAnswer())
                await self.send_description("call:answer")
            elif event == "call:answer":
                await self.pc.setRemoteDescription(RTCSessionDescription(data["sdp"], "answer"))
                await self._flush()
            elif self.pc.remoteDescription is None:
                # Events run concurrently on the server: a candidate may overtake its SDP.
                self.pending.append(data["candidate"])
            else:
                await self._add(data["candidate"])

    async def _flush(self) -> None:
        for candidate in self.pending:
            await self._add(candidate)
        self.pending.clear()

    async def _add(self, candidate: dict[str, Any] | None) -> None:
        if candidate is None:
            await self.pc.addIceCandidate(None)
            return
        ice = candidate_from_sdp(candidate["candidate"].removeprefix("candidate:"))
        ice.sdpMid, ice.sdpMLineIndex = candidate["sdpMid"], candidate["sdpMLineIndex"]
        await self.pc.addIceCandidate(ice)

    async def close(self) -> None:
        self.worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.worker
        await self.pc.close()


async def test_two_aiortc_peers_connect_through_the_server_and_a_third_hears_nothing(
    api: Api, live_server: LiveServer
):
    job = await repair_job(api)
    stranger = await api.customer()
    async with peers(live_server, job.customer, job.provider, stranger) as (
        caller_socket, callee_socket, outsider_socket
    ):
        call = await started(api, job.customer, job.id, "audio")
        await callee_socket.next("call:incoming")
        caller = RtcParty(caller_socket, call["id"])
        callee = RtcParty(callee_socket, call["id"])
        outsider = RtcParty(outsider_socket, call["id"])
        callee.answer_data_channel()
        try:
            await callee_socket.ok("call:join", {"callId": call["id"]})
            await moved(api, job.provider, call["id"], "accept")
            await caller.offer()

            async def states() -> tuple[str, str, str, str]:
                for party in (caller, callee):
                    if party.worker.done():
                        party.worker.result()  # a signalling step failed: show why
                return (caller.pc.connectionState, callee.pc.connectionState,
                        caller.pc.iceConnectionState, callee.pc.iceConnectionState)

            connected = await eventually(
                states, lambda s: s[:2] == ("connected", "connected"), CONNECT_TIMEOUT)
            assert connected[2:] in {("completed", "completed"), ("connected", "connected"),
                                     ("completed", "connected"), ("connected", "completed")}
            assert await asyncio.wait_for(callee.messages.get(), CONNECT_TIMEOUT) == (
                "hello from the caller")
            assert await asyncio.wait_for(caller.messages.get(), CONNECT_TIMEOUT) == (
                "echo: hello from the caller")
            # What crossed the server: one offer to the callee, one answer to the caller, and
            # each side's candidates plus its end-of-candidates (the peers may connect on the
            # first candidates, before the last ones have arrived).
            async def ice_relayed() -> tuple[int, int, int, int]:
                return (caller.relayed_to_me.count("call:ice"), callee.ice_sent,
                        callee.relayed_to_me.count("call:ice"), caller.ice_sent)

            await eventually(ice_relayed, lambda n: n[0] == n[1] >= 2 and n[2] == n[3] >= 2)
            assert callee.relayed_to_me.count("call:offer") == 1
            assert caller.relayed_to_me.count("call:answer") == 1
            assert "call:offer" not in caller.relayed_to_me
            assert "call:answer" not in callee.relayed_to_me

            # The third peer can neither join nor signal, and was sent nothing at all.
            assert await outsider_socket.refused("call:join", {"callId": call["id"]}) == (
                "NOT_FOUND")
            assert await outsider_socket.refused(
                "call:offer", {"callId": call["id"], "sdp": "v=0\r\n"}) == "NOT_FOUND"
            assert outsider.relayed_to_me == [] and outsider_socket.received_nothing()
            assert outsider.pc.connectionState == "new"
        finally:
            for party in (caller, callee, outsider):
                await party.close()
