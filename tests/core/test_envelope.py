"""Every response, errors included, is the envelope; trace ids are echoed or replaced."""

import re
from typing import Any

import pytest

from tests.helpers import Api, assert_error

HEX_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")


async def test_unknown_route_is_a_404_envelope(client):
    response = await client.get("/api/no-such-thing")

    assert assert_error(response, 404)["message"] == "Route not found"


async def test_wrong_method_is_a_405_envelope(client):
    response = await client.delete("/api/auth/login")

    assert assert_error(response, 405)["message"] == "Method not allowed"
    assert "POST" in response.headers["allow"]


async def test_validation_error_lists_field_errors(client, mongo_db):
    response = await client.post(
        "/api/auth/signup",
        json={"email": "not-an-email", "password": "Corr3ct-Horse-Battery", "role": "customer",
              "name": "X"},
    )

    body = assert_error(response, 422)
    [error] = body["data"]["errors"]
    assert error["field"] == "body.email" and error["message"]
    assert await mongo_db.users.count_documents({}) == 1  # only the bootstrap admin


async def test_missing_fields_are_each_reported(client):
    response = await client.post("/api/auth/signup", json={})

    fields = {e["field"] for e in assert_error(response, 422)["data"]["errors"]}
    assert fields == {"body.email", "body.password", "body.role"}


async def test_malformed_json_is_a_400_envelope(client, mongo_db):
    response = await client.post(
        "/api/auth/signup", content=b'{"email": "a@b.co", ', headers={"Content-Type": "application/json"}
    )

    assert assert_error(response, 400)["message"] == "Malformed JSON body"
    assert await mongo_db.users.count_documents({}) == 1


async def test_unhandled_error_is_a_500_envelope_without_internals(app: Any, client):
    @app.fastapi.get("/test-only/explode")
    async def explode() -> None:
        raise RuntimeError("secret internals: password=hunter2 at /srv/app.py line 42")

    response = await client.get("/test-only/explode", headers={"X-Request-ID": "boom-trace-0001"})

    body = assert_error(response, 500)
    assert body == {"success": False, "message": "Internal server error", "data": None,
                    "traceId": "boom-trace-0001"}
    assert "secret" not in response.text and "Traceback" not in response.text
    assert response.headers["x-request-id"] == "boom-trace-0001"


async def test_success_envelope_carries_the_trace_id(client):
    response = await client.get("/health", headers={"X-Request-ID": "health-check-0001"})

    assert response.json() == {"success": True, "message": "OK", "data": {"status": "up"},
                               "traceId": "health-check-0001"}


async def test_ready_reports_the_database(client):
    response = await client.get("/ready")

    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["status"], data["database"], "redis" in data) == ("ready", "up", False)
    assert isinstance(data["jobLeases"], list)


async def test_sane_request_id_is_echoed_in_header_and_trace_id(api: Api, client):
    trace_id = "req-2024.06.01:abc_DEF-42"

    response = await client.post(
        "/api/auth/login", json={"email": "x@example.com", "password": "nope"},
        headers={"X-Request-ID": trace_id},
    )

    assert response.headers["x-request-id"] == trace_id
    assert response.json()["traceId"] == trace_id


@pytest.mark.parametrize(
    "request_id",
    ["has spaces in it", "x" * 500, "short", "inject\"quote'0001", "ünïcödé-trace-id"],
    ids=["spaces", "500-chars", "too-short", "quotes", "non-ascii"],
)
async def test_insane_request_id_is_replaced(client, request_id: str):
    response = await client.get(
        "/api/no-such-thing", headers={"X-Request-ID": request_id.encode()}
    )

    trace_id = response.headers["x-request-id"]
    assert trace_id != request_id and HEX_TRACE_ID.match(trace_id)
    assert response.json()["traceId"] == trace_id


async def test_missing_request_id_gets_a_fresh_one_per_request(client):
    first, second = await client.get("/health"), await client.get("/health")

    assert HEX_TRACE_ID.match(first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert first.json()["traceId"] == first.headers["x-request-id"]


async def test_created_resource_answers_201_with_the_resource_in_data(client):
    response = await client.post(
        "/api/auth/signup",
        json={"email": "new.person@example.com", "password": "Corr3ct-Horse-Battery",
              "role": "customer", "name": "New"},
    )

    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True and body["data"]["user"]["email"] == "new.person@example.com"
