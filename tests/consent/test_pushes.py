"""What the parties hear over Socket.IO: python-socketio clients on a live uvicorn receive
`consent:requested`, `consent:updated` and `remote-session:updated` in their `user:` rooms,
and an outsider receives nothing."""

import asyncio
from typing import Any

from tests.chat.factories import live_api
from tests.consent.factories import decide, open_session, request_consent, software_job
from tests.realtime.test_socketio import socket_client
from tests.repairs.factories import data_of

RECEIVE_TIMEOUT = 10


async def next_of(inbox: asyncio.Queue[Any]) -> Any:
    return await asyncio.wait_for(inbox.get(), RECEIVE_TIMEOUT)


async def test_both_parties_hear_of_consents_and_sessions(live_server):
    async with live_api(live_server) as api:
        repair, customer, technician, _ = await software_job(api)
        outsider = await api.customer()
        async with socket_client() as customer_socket, socket_client() as technician_socket, \
                socket_client() as outsider_socket:
            customer_requested = customer_socket.inbox("consent:requested")
            customer_updated = customer_socket.inbox("consent:updated")
            technician_updated = technician_socket.inbox("consent:updated")
            technician_requested = technician_socket.inbox("consent:requested")
            customer_sessions = customer_socket.inbox("remote-session:updated")
            technician_sessions = technician_socket.inbox("remote-session:updated")
            outsider_requested = outsider_socket.inbox("consent:requested")
            await customer_socket.connect(live_server, {"token": customer.token})
            await technician_socket.connect(live_server, {"token": technician.token})
            await outsider_socket.connect(live_server, {"token": outsider.token})

            requested = data_of(await request_consent(api, technician, repair["id"]), 201)
            pushed = await next_of(customer_requested)
            assert pushed["id"] == requested["id"] and pushed["status"] == "pending"
            assert pushed["allowedActions"] == ["grant", "deny"]

            data_of(await decide(api, customer, repair["id"], requested["id"], "grant"))
            for inbox in (customer_updated, technician_updated):
                assert (await next_of(inbox))["status"] == "granted"

            opened = data_of(await open_session(api, technician, repair["id"]), 201)
            for inbox in (customer_sessions, technician_sessions):
                update = await next_of(inbox)
                assert update["id"] == opened["sessionId"] and update["status"] == "active"

            data_of(await decide(api, customer, repair["id"], requested["id"], "revoke"))
            for inbox in (customer_sessions, technician_sessions):
                update = await next_of(inbox)
                assert update["status"] == "ended" and update["endReason"] == "consent_ended"
            for inbox in (customer_updated, technician_updated):
                assert (await next_of(inbox))["status"] == "revoked"
            assert outsider_requested.empty() and technician_requested.empty()
