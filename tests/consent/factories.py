"""Software-repair stories: an accepted software job (online by default) with its IMEI, the
technician's consent requests and the customer's answers, remote sessions and their events."""

from typing import Any

import httpx

from tests.helpers import Account, Api
from tests.repairs.factories import (
    ADDRESS,
    HOME,
    VALID_IMEI,
    assignment,
    book_software,
    data_of,
)
from tests.technicians.factories import approved_technician

PURPOSE = "Reflash the firmware to fix the boot loop"


async def software_job(api: Api, mode: str = "online", skills: list[str] | None = None,
                       customer: Account | None = None,
                       ) -> tuple[dict[str, Any], Account, Account, dict[str, Any]]:
    """A software repair with an IMEI, assigned by ops and accepted by a technician with
    `skills` (software by default): (repair, customer, technician account, profile)."""
    customer = customer or await api.customer()
    overrides: dict[str, Any] = {"imei": VALID_IMEI, "mode": mode}
    if mode == "offline":
        overrides.update(location={"lat": HOME[0], "lng": HOME[1]}, address=ADDRESS)
    repair = await book_software(api, customer, **overrides)
    ops = await api.admin("ops")
    account, profile = await approved_technician(api, ops, skills=skills or ["software"])
    data_of(await assignment(api, ops, repair["id"], "assign", technicianId=profile["id"]))
    accepted = data_of(await assignment(api, account, repair["id"], "accept"))
    assert accepted["status"] == "accepted"
    return accepted, customer, account, profile


def consent_body(scopes: list[str] | None = None, duration: int = 30) -> dict[str, Any]:
    return {"scopes": scopes or ["imei_access", "remote_port"], "purpose": PURPOSE,
            "durationMinutes": duration}


async def request_consent(api: Api, caller: Account, repair_id: str,
                          **body: Any) -> httpx.Response:
    return await api.client.post(f"/api/repairs/{repair_id}/consents",
                                 json=body or consent_body(), headers=caller.headers)


async def decide(api: Api, caller: Account, repair_id: str, consent_id: str, action: str,
                 headers: dict[str, str] | None = None) -> httpx.Response:
    return await api.client.patch(f"/api/repairs/{repair_id}/consents/{consent_id}",
                                  json={"action": action},
                                  headers={**caller.headers, **(headers or {})})


async def granted_consent(api: Api, technician: Account, customer: Account, repair_id: str,
                          scopes: list[str] | None = None, duration: int = 30,
                          ) -> dict[str, Any]:
    requested = data_of(await request_consent(api, technician, repair_id,
                                              **consent_body(scopes, duration)), 201)
    granted = data_of(await decide(api, customer, repair_id, requested["id"], "grant"))
    assert granted["status"] == "granted"
    return granted


async def reveal(api: Api, caller: Account, repair_id: str) -> httpx.Response:
    return await api.client.get(f"/api/repairs/{repair_id}/imei", headers=caller.headers)


async def open_session(api: Api, caller: Account, repair_id: str) -> httpx.Response:
    return await api.client.post(f"/api/repairs/{repair_id}/remote-sessions",
                                 headers=caller.headers)


async def send_event(api: Api, caller: Account, repair_id: str, session_id: str, token: str,
                     type_: str = "heartbeat", detail: str = "") -> httpx.Response:
    return await api.client.post(
        f"/api/repairs/{repair_id}/remote-sessions/{session_id}/events",
        json={"type": type_, "detail": detail},
        headers={**caller.headers, "X-Session-Token": token})


async def end_session(api: Api, caller: Account, repair_id: str,
                      session_id: str) -> httpx.Response:
    return await api.client.patch(f"/api/repairs/{repair_id}/remote-sessions/{session_id}",
                                  json={"action": "end"}, headers=caller.headers)


async def session_log(api: Api, caller: Account, repair_id: str,
                      session_id: str) -> httpx.Response:
    return await api.client.get(f"/api/repairs/{repair_id}/remote-sessions/{session_id}/logs",
                                headers=caller.headers)


async def verify_token(api: Api, token: str) -> httpx.Response:
    return await api.client.post("/api/remote-sessions/token/verify",
                                 json={"sessionToken": token})


async def live_session(api: Api) -> tuple[dict[str, Any], Account, Account, dict[str, Any],
                                          dict[str, Any]]:
    """An online software job with a granted consent and an open session:
    (repair, customer, technician, consent, opened session)."""
    repair, customer, technician, _ = await software_job(api)
    consent = await granted_consent(api, technician, customer, repair["id"])
    opened = data_of(await open_session(api, technician, repair["id"]), 201)
    return repair, customer, technician, consent, opened
