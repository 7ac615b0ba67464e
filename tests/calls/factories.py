"""Call stories: a repair job (customer ↔ technician) or an order job (buyer ↔ dealer), and
calls on it."""

from dataclasses import dataclass
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from app.repairs.models import IssueType, Repair, RepairMode, RepairStatus
from tests.helpers import Account, Api
from tests.orders import factories as order_factories


@dataclass
class JobParties:
    """A job and its two parties: the customer (or buyer) and the technician (or dealer)."""

    id: str
    customer: Account
    provider: Account


async def repair_job(api: Api, technician: bool = True) -> JobParties:
    """A repair accepted by a technician, inserted directly (the repairs API is built apart)."""
    customer = await api.customer()
    worker = await api.technician()
    repair = Repair(
        customer_id=customer.id, device_brand="Apple", device_model="iPhone 13",
        issue_type=IssueType.HARDWARE, issue_description="Cracked screen",
        mode=RepairMode.ONLINE,
        status=RepairStatus.ACCEPTED if technician else RepairStatus.AWAITING_ASSIGNMENT,
        technician_id="tch_test" if technician else None,
        technician_user_id=worker.id if technician else None,
    )
    await repair.insert()
    return JobParties(repair.id, customer, worker)


async def order_job(api: Api) -> JobParties:
    """A placed order: its buyer and its (approved) dealer's account."""
    shop = await order_factories.shop(api)
    product = await order_factories.part(api, shop)
    buyer = await api.customer()
    order = await order_factories.placed(api, buyer, (product["id"], 1))
    return JobParties(order["id"], buyer, shop.account)


async def start(api: Api, caller: Account, job_id: str, type: str = "video") -> httpx.Response:
    return await api.client.post("/api/calls", json={"jobId": job_id, "type": type},
                                 headers=caller.headers)


async def started(api: Api, caller: Account, job_id: str, type: str = "video") -> dict[str, Any]:
    response = await start(api, caller, job_id, type)
    assert response.status_code == 201, response.text
    return response.json()["data"]


async def move(api: Api, account: Account, call_id: str, action: str) -> httpx.Response:
    return await api.client.patch(f"/api/calls/{call_id}/status", json={"action": action},
                                  headers=account.headers)


async def moved(api: Api, account: Account, call_id: str, action: str) -> dict[str, Any]:
    response = await move(api, account, call_id, action)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def logs(api: Api, account: Account, call_id: str) -> httpx.Response:
    return await api.client.get(f"/api/calls/{call_id}/logs", headers=account.headers)


async def call_doc(db: AsyncDatabase, call_id: str) -> dict[str, Any]:
    doc = await db.calls.find_one({"_id": call_id})
    assert doc is not None
    return doc


async def live_calls(db: AsyncDatabase, job_id: str) -> list[dict[str, Any]]:
    return await db.calls.find({"job_id": job_id, "live": True}).to_list()
