"""Operations: Prometheus metrics (by route template, business gauges, job success times,
behind METRICS_TOKEN), security headers on every response, readiness with Redis and the job
leases, and Swagger UI served from the app's own assets."""

import asyncio
import base64
import re
import secrets

import httpx
import pytest
from pydantic import SecretStr

from app.core import leases
from app.core.config import Settings
from app.core.jobs import PeriodicJob
from app.core.metrics import JOB_LAST_SUCCESS
from tests.core.test_redis_multiprocess import redis_server  # noqa: F401 (session fixture)
from tests.helpers import Api, assert_error, eventually, running_app
from tests.payments.factories import Payments
from tests.processes import RedisServer, free_port
from tests.production import production_settings


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in a Prometheus exposition, None when absent."""
    for line in text.splitlines():
        if not line.startswith(name + ("{" if labels else " ")):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.rsplit(" ", 1)[0]))
        if all(found.get(key) == value for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


async def test_metrics_count_requests_by_route_template_and_show_money_figures(pay: Payments):
    api = pay.api
    route_404 = {"method": "GET", "route": "/api/orders/{orderId}", "status": "404"}
    before = (await api.client.get("/metrics")).text
    customer = await api.customer()
    for _ in range(3):
        await api.client.get("/api/orders/ord_doesnotexist", headers=customer.headers)
    await api.client.get("/no/such/path")
    purchase = await pay.paid()

    response = await api.client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    counted = (sample(text, "http_requests_total", **route_404)
               - (sample(before, "http_requests_total", **route_404) or 0))
    timed = (sample(text, "http_request_duration_seconds_count", **route_404)
             - (sample(before, "http_request_duration_seconds_count", **route_404) or 0))
    assert counted == 3 and timed == 3
    assert sample(text, "http_requests_total", route="unmatched", status="404") >= 1
    assert "ord_doesnotexist" not in text and "/no/such/path" not in text
    assert sample(text, "payments", state="captured") == 1
    assert sample(text, "payments", state="failed") == 0
    assert sample(text, "escrow_held_payments") == 1
    assert sample(text, "escrow_held_paise") == purchase.order["total"]
    assert sample(text, "socketio_connections") == 0


async def test_a_job_run_sets_its_last_success_time(app):
    ran = asyncio.Event()

    async def work() -> bool:
        ran.set()
        return False

    job = PeriodicJob(f"metrics-probe-{secrets.token_hex(4)}", work, interval=3600)
    runner = asyncio.create_task(job.run_forever())
    try:
        await asyncio.wait_for(ran.wait(), 10)
        await eventually(lambda: _gauge(job.name), lambda value: value > 0)
    finally:
        job.stopping = True
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        await leases.release(job.name)


async def _gauge(job: str) -> float:
    return JOB_LAST_SUCCESS.labels(job)._value.get()


@pytest.mark.settings(metrics_token=SecretStr("m" * 48))
async def test_metrics_need_the_bearer_token_when_one_is_set(client: httpx.AsyncClient):
    refused = await client.get("/metrics")
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer " + "x" * 48})
    right = await client.get("/metrics", headers={"Authorization": "Bearer " + "m" * 48})

    assert_error(refused, 401)
    assert refused.headers["www-authenticate"] == "Bearer"
    assert_error(wrong, 401)
    assert right.status_code == 200 and "http_requests_total" in right.text


@pytest.mark.settings(metrics_enabled=False)
async def test_metrics_can_be_switched_off(client: httpx.AsyncClient):
    assert_error(await client.get("/metrics"), 404)


def test_production_refuses_to_start_without_a_strong_metrics_token():
    with pytest.raises(ValueError, match="METRICS_TOKEN"):
        production_settings(metrics_token=None)
    with pytest.raises(ValueError, match="METRICS_TOKEN"):
        production_settings(metrics_token=SecretStr("short"))
    assert production_settings(metrics_enabled=False, metrics_token=None).metrics_enabled is False


async def test_security_headers_on_every_response(api: Api, config: Settings):
    customer = await api.customer()
    answers = {
        "ok": await api.client.get("/health"),
        "not found": await api.client.get("/api/orders/ord_nope", headers=customer.headers),
        "too large": await api.client.post("/api/auth/login", content=b"x" * (config.max_body_bytes + 1),
                                           headers={"Content-Type": "application/json"}),
        "docs": await api.client.get("/docs"),
        "demo": await api.client.get("/demo/call"),
    }
    assert answers["too large"].status_code == 413
    for name, response in answers.items():
        assert response.headers["x-content-type-options"] == "nosniff", name
        assert response.headers["referrer-policy"] == "no-referrer", name
        assert "strict-transport-security" not in response.headers, name  # not production
    assert "content-security-policy" not in answers["ok"].headers
    assert "default-src 'self'" in answers["docs"].headers["content-security-policy"]
    assert "script-src 'self';" in answers["demo"].headers["content-security-policy"]


async def test_production_adds_strict_transport_security(config: Settings):
    signing_key = SecretStr(base64.b64encode(secrets.token_bytes(32)).decode())
    production = production_settings(
        database=config.database, audit=config.audit.model_copy(update={"signing_key": signing_key}))
    async with running_app(production) as client:
        response = await client.get("/health")
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")


async def test_swagger_ui_is_served_from_the_apps_own_assets(client: httpx.AsyncClient):
    page = await client.get("/docs")
    sandbox_page = await client.get("/sandbox/razorpay/docs")

    assert page.status_code == 200
    scripts = re.findall(r'<script src="([^"]+)"', page.text)
    styles = re.findall(r'<link type="text/css" rel="stylesheet" href="([^"]+)"', page.text)
    assert scripts == ["/docs-assets/swagger-ui-bundle.js"] and styles == ["/docs-assets/swagger-ui.css"]
    assert "cdn" not in page.text.lower()
    bundle = await client.get(scripts[0])
    assert bundle.status_code == 200 and "javascript" in bundle.headers["content-type"]
    assert len(bundle.content) > 500_000
    assert "'/openapi.json'" in page.text
    assert sandbox_page.status_code == 200
    assert "/sandbox/razorpay/docs-assets/swagger-ui-bundle.js" in sandbox_page.text
    assert "'/sandbox/razorpay/openapi.json'" in sandbox_page.text
    assert (await client.get("/sandbox/razorpay/docs-assets/swagger-ui.css")).status_code == 200


async def test_ready_reports_redis_and_the_job_leases(
    config: Settings, redis_server: RedisServer  # noqa: F811
):
    await_lease = "ready-probe"
    async with running_app(config.model_copy(update={"redis_url": redis_server.url})) as client:
        await leases.acquire(await_lease, 60)
        ready = await client.get("/ready")
    dead = f"redis://127.0.0.1:{free_port()}/0"
    async with running_app(config.model_copy(update={"redis_url": dead})) as client:
        not_ready = await client.get("/ready")

    assert ready.status_code == 200
    data = ready.json()["data"]
    assert data["status"] == "ready" and data["database"] == "up" and data["redis"] == "up"
    probe = next(lease for lease in data["jobLeases"] if lease["job"] == await_lease)
    assert probe["holder"] == leases.INSTANCE_ID and probe["live"] is True
    body = assert_error(not_ready, 503)
    assert body["data"]["redis"] == "down" and body["data"]["database"] == "up"
