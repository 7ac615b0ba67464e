"""What a client may send: bodies are capped before parsing, cursors are data, never operators."""

import base64
import json

import pytest


async def test_an_oversized_body_is_refused_with_413_and_nothing_is_stored(api, client, mongo_db):
    big_name = "x" * (1024 * 1024 + 10)
    response = await client.post(
        "/api/auth/signup",
        json={"email": "big@example.com", "password": "Corr3ct-Horse-Battery", "role": "customer",
              "name": big_name},
    )
    assert response.status_code == 413, response.text
    body = response.json()
    assert body["success"] is False and body["traceId"]
    assert await mongo_db["users"].count_documents({"email": "big@example.com"}) == 0


async def test_a_body_streamed_without_content_length_is_cut_off_at_the_cap(client, mongo_db):
    async def chunks():
        payload = json.dumps({"email": "stream@example.com", "password": "Corr3ct-Horse-Battery",
                              "role": "customer", "name": "y" * (2 * 1024 * 1024)}).encode()
        for start in range(0, len(payload), 64 * 1024):
            yield payload[start:start + 64 * 1024]

    response = await client.post(
        "/api/auth/signup", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413, response.text
    assert response.json()["success"] is False
    assert await mongo_db["users"].count_documents({"email": "stream@example.com"}) == 0


def _cursor(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "payload",
    [
        {"v": {"$ne": None}, "id": "x"},
        {"v": "2026", "id": {"$gt": ""}},
        {"t": "not-a-time", "id": "x"},
        ["not", "an", "object"],
        {"id": "x"},
    ],
)
async def test_an_injected_cursor_is_a_400(api, client, payload):
    admin = await api.admin("ops")
    response = await client.get(
        "/api/admin/users", params={"cursor": _cursor(payload)}, headers=admin.headers
    )
    assert response.status_code == 400, response.text
    assert response.json()["message"] == "Invalid cursor"


@pytest.mark.parametrize(
    "payload",
    [
        {"s": "newest", "v": {"$gt": ""}, "id": "x"},
        {"s": "newest", "t": "2026-01-01T00:00:00+00:00", "id": {"$ne": None}},
        {"s": "price", "v": 100, "id": "x"},  # a cursor of another sort order
    ],
)
async def test_an_injected_browse_cursor_is_a_400(client, payload):
    response = await client.get("/api/products", params={"cursor": _cursor(payload)})
    assert response.status_code == 400, response.text
    assert response.json()["message"] == "Invalid cursor"
