"""The OpenAPI document: bearer auth for Swagger's Authorize button, models on every route."""

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
