"""The OpenAPI document: bearer auth for Swagger's Authorize button, models on every route,
and the truth about tokens, required headers and the errors every route can answer."""

from typing import Any

METHODS = {"get", "post", "put", "patch", "delete"}


async def openapi(client) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(document: dict[str, Any]):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


async def test_openapi_declares_a_bearer_security_scheme_used_by_protected_routes(client):
    document = await openapi(client)

    schemes = document["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= next(iter(schemes.values())).items()
    me = document["paths"]["/api/users/me"]["get"]
    assert me["security"] == [{name: []} for name in schemes]
    assert "security" not in document["paths"]["/api/auth/login"]["post"]


async def test_every_route_has_a_response_model_and_a_description(client):
    document = await openapi(client)
    missing = []

    for path, method, operation in operations(document):
        success = [code for code in operation["responses"] if code.startswith("2")]
        content = operation["responses"][success[0]].get("content", {}) if success else {}
        schema = content.get("application/json", {}).get("schema")
        # A file download (media) declares its binary types instead of a JSON model.
        binary = bool(content) and all(
            kind != "application/json" and body.get("schema", {}).get("format") == "binary"
            for kind, body in content.items())
        if (not binary and (not schema or "$ref" not in schema)) or not operation.get("description"):
            missing.append(f"{method.upper()} {path}")

    assert missing == []


async def test_every_route_is_tagged_with_a_declared_tag(client):
    document = await openapi(client)
    declared = {tag["name"] for tag in document["tags"]}

    untagged = [f"{m} {p}" for p, m, op in operations(document)
                if not op.get("tags") or not set(op["tags"]) <= declared]

    assert untagged == []


async def test_swagger_ui_is_served(client):
    response = await client.get("/docs")

    assert response.status_code == 200 and "swagger" in response.text.lower()


PUBLIC = {
    ("post", "/api/auth/signup"), ("post", "/api/auth/login"), ("post", "/api/auth/refresh"),
    ("post", "/api/auth/logout"), ("get", "/health"), ("get", "/ready"),
    ("get", "/api/audit/checkpoints/key"), ("post", "/api/remote-sessions/token/verify"),
    ("post", "/api/payments/webhook"),
}
# Public catalogue reads: anonymous callers welcome, a signed-in caller sees its own view.
TOKEN_OPTIONAL = {
    ("get", "/api/products"), ("get", "/api/products/{productId}"),
    ("get", "/api/dealers/{dealerId}"), ("get", "/api/dealers/{dealerId}/products"),
}
REQUIRED_HEADERS = {
    ("patch", "/api/admin/disputes/{disputeId}"): {"Idempotency-Key"},
    ("post", "/api/payments"): {"Idempotency-Key"},
    ("patch", "/api/payments/{paymentId}/release"): {"Idempotency-Key"},
    ("post", "/api/payments/{paymentId}/refunds"): {"Idempotency-Key"},
    ("post", "/api/payouts"): {"Idempotency-Key"},
    ("post", "/api/payments/webhook"): {"X-Razorpay-Signature", "X-Razorpay-Event-Id"},
    ("post", "/api/repairs/{repairId}/remote-sessions/{sessionId}/events"): {"X-Session-Token"},
}


async def test_public_routes_need_no_token_and_every_other_route_requires_one(client):
    document = await openapi(client)
    bearer = [{name: []} for name in document["components"]["securitySchemes"]]

    wrong = []
    for path, method, operation in operations(document):
        expected = (None if (method, path) in PUBLIC
                    else [{}, *bearer] if (method, path) in TOKEN_OPTIONAL else bearer)
        if operation.get("security") != expected:
            wrong.append(f"{method.upper()} {path}: {operation.get('security')}")

    assert wrong == []


async def test_the_headers_routes_demand_are_declared_required(client):
    document = await openapi(client)

    declared = {}
    for path, method, operation in operations(document):
        headers = {p["name"]: p.get("required", False)
                   for p in operation.get("parameters", []) if p["in"] == "header"}
        if any(headers.values()) or "Idempotency-Key" in headers:
            declared[(method, path)] = {name for name, required in headers.items() if required}

    assert declared == REQUIRED_HEADERS


async def test_every_error_the_core_can_answer_is_declared_with_the_error_envelope(client):
    document = await openapi(client)
    missing = []

    for path, method, operation in operations(document):
        codes = set(operation["responses"])
        expected = set()
        if "requestBody" in operation:
            expected |= {"400", "413", "422"}
        parameters = operation.get("parameters", [])
        if any(p["name"] == "cursor" for p in parameters):
            expected |= {"400", "422"}
        if parameters:
            expected.add("422")
        if operation.get("security"):
            expected |= {"401", "403"}
        if path.startswith("/api/"):
            expected |= {"400", "503"}
            if path != "/api/payments/webhook":  # signed webhooks are never rate limited
                expected.add("429")
        if expected - codes:
            missing.append(f"{method.upper()} {path}: {sorted(expected - codes)}")
        for code, response in operation["responses"].items():
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            if code[0] in "45" and schema != {"$ref": "#/components/schemas/ErrorEnvelope"}:
                missing.append(f"{method.upper()} {path} {code}: no error envelope")

    assert missing == []


async def test_undecodable_bodies_and_bad_cursors_get_the_declared_400(client):
    document = await openapi(client)
    login = await client.post("/api/auth/login", content=b"\xff\xfe{",
                              headers={"Content-Type": "application/json"})
    page = await client.get("/api/products", params={"cursor": "not-a-cursor"})

    assert login.status_code == page.status_code == 400
    assert login.json()["message"] == "Malformed JSON body"
    assert page.json()["message"] == "Invalid cursor" and page.json()["success"] is False
    assert "400" in document["paths"]["/api/auth/login"]["post"]["responses"]
    assert "400" in document["paths"]["/api/products"]["get"]["responses"]
