"""Signalling over Socket.IO with python-socketio clients against a live uvicorn: relayed
between the call's two parties only, while it rings or is active; anyone else is refused."""

from collections.abc import AsyncIterator

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from app.calls.schemas import SDP_MAX_BYTES
from tests.calls.factories import JobParties, call_doc, moved, repair_job, started
from tests.calls.sockets import peers
from tests.helpers import Account, Api
from tests.live import LiveServer

SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
CANDIDATE = {"candidate": "candidate:1 1 udp 2122260223 192.0.2.2 50000 typ host",
             "sdpMid": "0", "sdpMLineIndex": 0, "usernameFragment": "abcd"}


@pytest.fixture
async def api(live_server: LiveServer) -> AsyncIterator[Api]:
    """The API of the live server (the sockets' server)."""
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as http:
        yield Api(http)


async def cast(api: Api) -> tuple[JobParties, Account, Account]:
    """A repair's two parties, a stranger, and an admin (who takes part in every job)."""
    return await repair_job(api), await api.customer(), await api.root_admin()


async def test_the_callee_is_rung_and_both_parties_hear_every_move(
    api: Api, live_server: LiveServer, mongo_db: AsyncDatabase
):
    job, stranger, admin = await cast(api)
    async with peers(live_server, job.customer, job.provider, stranger, admin) as (
        caller, callee, outsider, overseer
    ):
        call = await started(api, job.customer, job.id, "audio")

        incoming = await callee.next("call:incoming")
        assert (incoming["id"], incoming["status"], incoming["type"]) == (
            call["id"], "ringing", "audio")
        assert incoming["callerId"] == job.customer.id

        await moved(api, job.provider, call["id"], "accept")
        for peer in (caller, callee):
            status = await peer.next("call:status")
            assert (status["id"], status["status"]) == (call["id"], "active")

        await moved(api, job.customer, call["id"], "end")
        for peer in (caller, callee):
            assert (await peer.next("call:status"))["status"] == "ended"

        assert caller.inbox["call:incoming"].empty()
        assert outsider.received_nothing() and overseer.received_nothing()
    assert (await call_doc(mongo_db, call["id"]))["status"] == "ended"


async def test_offer_answer_and_ice_reach_the_other_party_only(
    api: Api, live_server: LiveServer
):
    job, stranger, admin = await cast(api)
    async with peers(live_server, job.customer, job.provider, stranger, admin) as (
        caller, callee, outsider, overseer
    ):
        call = await started(api, job.customer, job.id)
        joined = await callee.ok("call:join", {"callId": call["id"]})
        assert joined["id"] == call["id"] and joined["status"] == "ringing"

        ack = await caller.ok("call:offer", {"callId": call["id"], "sdp": SDP})
        assert ack == {"callId": call["id"], "relayed": True}
        assert await callee.next("call:offer") == {
            "callId": call["id"], "fromUserId": job.customer.id, "sdp": SDP}

        await callee.ok("call:answer", {"callId": call["id"], "sdp": SDP})
        assert await caller.next("call:answer") == {
            "callId": call["id"], "fromUserId": job.provider.id, "sdp": SDP}

        await callee.ok("call:ice", {"callId": call["id"], "candidate": CANDIDATE})
        await callee.ok("call:ice", {"callId": call["id"], "candidate": None})
        assert (await caller.next("call:ice"))["candidate"] == CANDIDATE
        assert (await caller.next("call:ice"))["candidate"] is None

        # Someone else's events: refused in the ack, relayed to no one.
        for event, data in (("call:join", {"callId": call["id"]}),
                            ("call:offer", {"callId": call["id"], "sdp": SDP}),
                            ("call:answer", {"callId": call["id"], "sdp": SDP}),
                            ("call:ice", {"callId": call["id"], "candidate": CANDIDATE}),
                            ("call:hangup", {"callId": call["id"]})):
            assert await outsider.refused(event, data) == "NOT_FOUND"
            assert await overseer.refused(event, data) == "FORBIDDEN"

        # A last signal between the parties arrives after anything the refusals could have sent.
        await caller.ok("call:ice", {"callId": call["id"], "candidate": CANDIDATE})
        assert (await callee.next("call:ice"))["fromUserId"] == job.customer.id
        assert callee.inbox["call:offer"].qsize() == 0 and callee.inbox["call:ice"].qsize() == 0
        assert caller.inbox["call:offer"].empty() and caller.inbox["call:answer"].empty()
        assert outsider.received_nothing() and overseer.received_nothing()


async def test_an_sdp_over_16_kib_is_refused_and_not_relayed(api: Api, live_server: LiveServer):
    job = await repair_job(api)
    async with peers(live_server, job.customer, job.provider) as (caller, callee):
        call = await started(api, job.customer, job.id)
        await callee.ok("call:join", {"callId": call["id"]})
        too_large = "a" * (SDP_MAX_BYTES + 1)
        # Multi-byte characters count as bytes, not characters.
        too_large_in_bytes = "é" * (SDP_MAX_BYTES // 2 + 1)

        assert await caller.refused("call:offer", {"callId": call["id"], "sdp": too_large}) == (
            "SDP_TOO_LARGE")
        assert await caller.refused("call:offer", {"callId": call["id"],
                                                   "sdp": too_large_in_bytes}) == "SDP_TOO_LARGE"
        largest = "a" * SDP_MAX_BYTES
        await caller.ok("call:offer", {"callId": call["id"], "sdp": largest})

        assert (await callee.next("call:offer"))["sdp"] == largest
        assert callee.inbox["call:offer"].empty()
        assert caller.sio.connected and callee.sio.connected


async def test_malformed_signals_are_refused_and_the_socket_stays(api: Api,
                                                                  live_server: LiveServer):
    job = await repair_job(api)
    async with peers(live_server, job.customer, job.provider) as (caller, callee):
        call = await started(api, job.customer, job.id)

        assert await caller.refused("call:offer", {"sdp": SDP}) == "VALIDATION_ERROR"
        assert await caller.refused("call:offer", "nonsense") == "VALIDATION_ERROR"
        assert await caller.refused("call:ice", {"callId": call["id"],
                                                 "candidate": {"bogus": 1}}) == "VALIDATION_ERROR"
        assert await caller.refused("call:offer", {"callId": "call_000000000000000000000000",
                                                   "sdp": SDP}) == "NOT_FOUND"
        assert caller.sio.connected
        assert callee.inbox["call:incoming"].qsize() == 1
        assert callee.inbox["call:offer"].empty() and callee.inbox["call:ice"].empty()


async def test_signalling_closes_when_the_call_ends(api: Api, live_server: LiveServer,
                                                    mongo_db: AsyncDatabase):
    job = await repair_job(api)
    async with peers(live_server, job.customer, job.provider) as (caller, callee):
        call = await started(api, job.customer, job.id)
        await callee.ok("call:join", {"callId": call["id"]})
        await moved(api, job.provider, call["id"], "reject")

        assert await caller.refused("call:offer", {"callId": call["id"], "sdp": SDP}) == (
            "CALL_NOT_LIVE")
        assert await callee.refused("call:join", {"callId": call["id"]}) == "CALL_NOT_LIVE"
        assert callee.inbox["call:offer"].empty()
    assert (await call_doc(mongo_db, call["id"]))["status"] == "rejected"


async def test_hangup_ends_an_active_call_like_end(api: Api, live_server: LiveServer,
                                                   mongo_db: AsyncDatabase):
    job = await repair_job(api)
    async with peers(live_server, job.customer, job.provider) as (caller, callee):
        call = await started(api, job.customer, job.id)
        await moved(api, job.provider, call["id"], "accept")
        for peer in (caller, callee):
            await peer.next("call:status")

        ended = await callee.ok("call:hangup", {"callId": call["id"]})

        assert (ended["status"], ended["endReason"]) == ("ended", "hangup")
        for peer in (caller, callee):
            assert (await peer.next("call:status"))["status"] == "ended"
        assert await callee.refused("call:hangup", {"callId": call["id"]}) == "CALL_NOT_LIVE"
    doc = await call_doc(mongo_db, call["id"])
    assert (doc["status"], doc["ended_by"], doc["events"][-1]["via"]) == (
        "ended", job.provider.id, "socket")
    admin = await api.root_admin()
    [entry] = await api.audited(admin, "call.ended", call["id"])
    assert entry["actorId"] == job.provider.id and entry["metadata"]["via"] == "socket"
    assert entry["source"]["ip"] == "127.0.0.1"


@pytest.mark.parametrize(("who", "status"), [("caller", "cancelled"), ("callee", "rejected")])
async def test_hangup_while_ringing_cancels_or_rejects(api: Api, live_server: LiveServer,
                                                       mongo_db: AsyncDatabase, who: str,
                                                       status: str):
    job = await repair_job(api)
    async with peers(live_server, job.customer, job.provider) as (caller, callee):
        call = await started(api, job.customer, job.id)

        data = await (caller if who == "caller" else callee).ok("call:hangup",
                                                                {"callId": call["id"]})

        assert data["status"] == status
        for peer in (caller, callee):
            assert (await peer.next("call:status"))["status"] == status
    assert (await call_doc(mongo_db, call["id"]))["status"] == status


async def test_a_signal_never_comes_back_to_the_senders_other_tabs(api: Api,
                                                                  live_server: LiveServer):
    job = await repair_job(api)
    async with peers(live_server, job.customer, job.customer, job.provider) as (
        caller, callers_other_tab, callee
    ):
        call = await started(api, job.customer, job.id)
        for peer in (callers_other_tab, callee):
            await peer.ok("call:join", {"callId": call["id"]})

        await caller.ok("call:offer", {"callId": call["id"], "sdp": SDP})

        assert (await callee.next("call:offer"))["fromUserId"] == job.customer.id
        # The callee's answer reaches both of the caller's joined tabs.
        await callee.ok("call:answer", {"callId": call["id"], "sdp": SDP})
        assert (await caller.next("call:answer"))["sdp"] == SDP
        assert (await callers_other_tab.next("call:answer"))["sdp"] == SDP
        assert callers_other_tab.inbox["call:offer"].empty()
        assert caller.inbox["call:offer"].empty()
