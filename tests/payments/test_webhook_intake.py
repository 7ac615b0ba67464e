"""The gateway's webhook intake under real limits: genuine bursts are never throttled, forged
ones cost one alert per window (and no audit entry), bodies have their own cap."""

import asyncio
import json
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from app.core import clock
from app.payments.gateway.signatures import webhook_signature
from tests.helpers import assert_error
from tests.live import LiveServer
from tests.orders import factories as order_factories
from tests.payments.factories import Payments

LIMITS_ON = {"enabled": True}  # RateLimitSettings() defaults: anonymous callers 60/min per IP
WINDOW = 600
BURST = 80
WEBHOOK = "/api/payments/webhook"


def _signed(live: LiveServer, body: bytes, event_id: str) -> dict[str, str]:
    secret = live.config.payments.razorpay_webhook_secret.get_secret_value()
    return {"Content-Type": "application/json", "X-Razorpay-Event-Id": event_id,
            "X-Razorpay-Signature": webhook_signature(body, secret)}


def _captured_elsewhere(template: bytes, n: int) -> bytes:
    """A genuine-looking payment.captured event for a gateway order this platform never made."""
    event = json.loads(template)
    entity = event["payload"]["payment"]["entity"]
    entity["id"], entity["order_id"] = f"pay_other{n:06d}", f"order_other{n:06d}"
    return json.dumps(event, separators=(",", ":")).encode()


async def _post_all(live: LiveServer, requests: list[tuple[bytes, dict[str, str]]]
                    ) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=live.base_url, timeout=60) as http:
        gate = asyncio.Semaphore(8)

        async def post(body: bytes, headers: dict[str, str]) -> httpx.Response:
            async with gate:
                return await http.post(WEBHOOK, content=body, headers=headers)

        return await asyncio.gather(*(post(body, headers) for body, headers in requests))


def _at_window_start() -> None:
    """Move the app clock to just after a window starts, so a burst stays in one window."""
    now = clock.utcnow().timestamp()
    clock.advance(timedelta(seconds=WINDOW - now % WINDOW + 1))


async def _captured_events(pay: Payments, count: int) -> tuple[list[dict[str, Any]], list[Any]]:
    """`count` payments of one buyer, paid in the sandbox with their webhooks held back."""
    seller = await order_factories.shop(pay.api)
    product = await order_factories.part(pay.api, seller, stock=count)
    buyer = await pay.api.customer()
    payments = []
    for _ in range(count):
        order = await order_factories.placed(pay.api, buyer, (product["id"], 1))
        started = await pay.start(buyer, order["id"])
        assert started.status_code == 201, started.text
        payments.append(started.json()["data"])
        paid = await pay.live.checkout(payments[-1]["gatewayOrderId"], deliver_webhook=False)
        assert paid.status_code == 200, paid.text
    gateway_orders = {p["gatewayOrderId"] for p in payments}
    events = [e for e in await pay.live.sandbox_store.recent_events(500)
              if e.event == "payment.captured"
              and json.loads(e.body)["payload"]["payment"]["entity"]["order_id"] in gateway_orders]
    assert len(events) == count
    return payments, events


@pytest.mark.settings(rate_limits=LIMITS_ON)
async def test_eighty_genuine_webhooks_in_a_minute_are_all_applied_and_the_sender_stays_unblocked(
    pay: Payments, mongo_db: AsyncDatabase
):
    payments, events = await _captured_events(pay, 5)
    burst = [(e.body, _signed(pay.live, e.body, e.id)) for e in events]
    for n in range(BURST - len(burst)):
        body = _captured_elsewhere(events[0].body, n)
        burst.append((body, _signed(pay.live, body, f"evt_{uuid.uuid4().hex[:14]}")))

    started = time.monotonic()
    answers = await _post_all(pay.live, burst)
    elapsed = time.monotonic() - started

    assert elapsed < 60
    assert [a.status_code for a in answers] == [200] * BURST, [a.text for a in answers if a.is_error]
    outcomes = [a.json()["data"]["outcome"] for a in answers]
    assert outcomes == ["captured"] * 5 + ["unknown_payment"] * (BURST - 5)
    assert await mongo_db.gateway_events.count_documents({}) == BURST
    for payment in payments:
        stored = await mongo_db.payments.find_one({"_id": payment["id"]})
        assert (stored["status"], stored["escrow_status"]) == ("captured", "held")
        order = await mongo_db.orders.find_one({"_id": payment["payableId"]})
        assert order["status"] == "paid"
    # The sender's address is neither over its anonymous budget nor blocked.
    async with httpx.AsyncClient(base_url=pay.live.base_url) as http:
        assert (await http.get("/api/products")).status_code == 200


@pytest.mark.settings(rate_limits=LIMITS_ON)
async def test_eighty_forged_webhooks_write_no_audit_entries_and_raise_one_counted_alert(
    live_server: LiveServer, mongo_db: AsyncDatabase
):
    _at_window_start()
    audit_before = await mongo_db.audit_entries.count_documents({})
    forged = []
    for n in range(BURST):
        body = json.dumps({"entity": "event", "event": "payment.captured", "n": n}).encode()
        forged.append((body, {"Content-Type": "application/json", "X-Razorpay-Event-Id": f"f{n}",
                              "X-Razorpay-Signature": "0" * 64}))

    answers = await _post_all(live_server, forged)

    for answer in answers:
        assert_error(answer, 400)
    assert await mongo_db.audit_entries.count_documents({}) == audit_before
    assert await mongo_db.audit_entries.count_documents(
        {"action": "payment.webhook_signature_invalid"}) == 0
    alerts = await mongo_db.alerts.find({"kind": "webhook_bad_signatures"}).to_list()
    assert len(alerts) == 1
    assert alerts[0]["details"]["count"] == BURST
    assert alerts[0]["details"]["windowSeconds"] == WINDOW
    assert await mongo_db.gateway_events.count_documents({}) == 0
    async with httpx.AsyncClient(base_url=live_server.base_url) as http:
        assert (await http.get("/api/products")).status_code == 200

    clock.advance(timedelta(seconds=WINDOW))
    assert_error((await _post_all(live_server, forged[:1]))[0], 400)

    counts = sorted(a["details"]["count"] for a in
                    await mongo_db.alerts.find({"kind": "webhook_bad_signatures"}).to_list())
    assert counts == [1, BURST]  # the next window has its own alert


async def test_webhook_bodies_have_their_own_cap_below_the_app_wide_one(client, mongo_db):
    oversized = b'{"pad":"' + b"x" * (300 * 1024) + b'"}'  # above 256 KiB, below 1 MiB

    refused = await client.post(WEBHOOK, content=oversized,
                                headers={"Content-Type": "application/json",
                                         "X-Razorpay-Signature": "0" * 64})
    elsewhere = await client.post("/api/auth/signup", content=oversized,
                                  headers={"Content-Type": "application/json"})

    assert_error(refused, 413)
    assert elsewhere.status_code == 422  # read and refused as invalid, not as too large
    assert await mongo_db.alerts.count_documents({}) == 0  # never reached the signature check


@pytest.mark.settings(payments={"webhook_max_body_bytes": 4096})
async def test_webhook_body_cap_follows_its_setting(live_server: LiveServer, mongo_db):
    body = json.dumps({"entity": "event", "event": "payment.captured", "payload": {},
                       "created_at": 0}).encode()
    padded = json.dumps({"entity": "event", "event": "x", "pad": "y" * 5000}).encode()

    small, large = await _post_all(live_server, [
        (body, _signed(live_server, body, "evt_small")),
        (padded, _signed(live_server, padded, "evt_large")),
    ])

    assert small.status_code == 200, small.text
    assert_error(large, 413)
    assert [e["_id"] for e in await mongo_db.gateway_events.find({}).to_list()] == ["evt_small"]
