"""Repair jobs for the payment terminal's stories, inserted straight into the database in the
state a test needs (the booking and matching routes belong to the repairs package), and the
money API spoken about them: quote, accept, pay through the sandbox, verify."""

import itertools
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from app.core import clock
from app.repairs.models import (
    IssueType,
    LatLng,
    Repair,
    RepairMode,
    RepairStatus,
    StatusChange,
)
from tests.helpers import Account, Api
from tests.payments.factories import Payments, idem
from tests.technicians.factories import BANGALORE, approved_technician

_serial = itertools.count(1)
# The statuses a job passes through to reach each one (offline: travel, arrive, start).
PATH = [RepairStatus.ACCEPTED, RepairStatus.EN_ROUTE, RepairStatus.ON_SITE,
        RepairStatus.IN_PROGRESS, RepairStatus.COMPLETED]


@dataclass
class Job:
    id: str
    customer: Account
    technician: Account
    technician_id: str  # tch_…


async def job(
    api: Api, status: RepairStatus = RepairStatus.ACCEPTED, *,
    customer: Account | None = None, technician: tuple[Account, dict[str, Any]] | None = None,
) -> Job:
    """A hardware job booked by `customer` and accepted by an approved technician, moved on
    to `status` (its history as the lifecycle would have written it)."""
    customer = customer or await api.customer()
    account, profile = technician or await approved_technician(api)
    now = clock.utcnow()
    history = [StatusChange(from_status=None, to_status=RepairStatus.OFFERED, action="book",
                            by=customer.id, at=now)]
    previous = RepairStatus.OFFERED
    for step in PATH[: PATH.index(status) + 1] if status in PATH else [status]:
        history.append(StatusChange(from_status=previous, to_status=step, action=step.value,
                                    by=account.id, at=now))
        previous = step
    repair = Repair(
        customer_id=customer.id, device_brand="Samsung", device_model=f"Galaxy S{next(_serial)}",
        issue_type=IssueType.HARDWARE, issue_description="The screen is cracked and flickers",
        mode=RepairMode.OFFLINE, location=LatLng(lat=BANGALORE[0], lng=BANGALORE[1]),
        status=status, status_history=history, technician_id=profile["id"],
        technician_user_id=account.id, offered_technician_ids=[profile["id"]],
        accepted_at=now, completed_at=now if status is RepairStatus.COMPLETED else None,
    )
    await repair.insert()
    return Job(repair.id, customer, account, profile["id"])


async def complete(job_id: str, at_offset: timedelta = timedelta(0)) -> None:
    """The technician completes the job (what the lifecycle route will do)."""
    now = clock.utcnow() + at_offset
    repair = await Repair.get(job_id)
    assert repair is not None
    await Repair.get_pymongo_collection().update_one(
        {"_id": job_id},
        {"$set": {"status": RepairStatus.COMPLETED.value, "completed_at": now,
                  "resolution_notes": "Display replaced and tested"},
         "$push": {"status_history": StatusChange(
             from_status=repair.status, to_status=RepairStatus.COMPLETED, action="complete",
             by=repair.technician_user_id or "system", at=now).model_dump()},
         "$inc": {"version": 1}},
    )


async def set_status(job_id: str, status: RepairStatus) -> None:
    await Repair.get_pymongo_collection().update_one(
        {"_id": job_id}, {"$set": {"status": status.value}, "$inc": {"version": 1}})


async def stored(job_id: str) -> Repair:
    repair = await Repair.get(job_id)
    assert repair is not None
    return repair


LABOUR = {"description": "Screen replacement labour", "kind": "labour", "amount": 150_000}


async def quote(api: Api, who: Account, job_id: str, *lines: dict[str, Any]) -> httpx.Response:
    return await api.client.post(f"/api/repairs/{job_id}/quote",
                                 json={"lines": list(lines or [LABOUR])}, headers=who.headers)


async def accept(api: Api, who: Account, job_id: str) -> httpx.Response:
    return await api.client.post(f"/api/repairs/{job_id}/quote/accept", headers=who.headers)


async def quoted_and_accepted(api: Api, job: Job, *lines: dict[str, Any]) -> dict[str, Any]:
    proposed = await quote(api, job.technician, job.id, *lines)
    assert proposed.status_code == 201, proposed.text
    accepted = await accept(api, job.customer, job.id)
    assert accepted.status_code == 200, accepted.text
    return accepted.json()["data"]


async def start_payment(pay: Payments, who: Account, job_id: str) -> httpx.Response:
    return await pay.client.post("/api/payments", json={"repairId": job_id},
                                 headers={**who.headers, **idem()})


async def paid(pay: Payments, job: Job) -> dict[str, Any]:
    """The customer pays the accepted quote: sandbox checkout, then /verify."""
    started = await start_payment(pay, job.customer, job.id)
    assert started.status_code == 201, started.text
    payment = started.json()["data"]
    checkout = await pay.live.checkout(payment["gatewayOrderId"], deliver_webhook=False)
    assert checkout.status_code == 200, checkout.text
    verified = await pay.client.post("/api/payments/verify", json=checkout.json(),
                                     headers=job.customer.headers)
    assert verified.status_code == 200, verified.text
    return verified.json()["data"]
