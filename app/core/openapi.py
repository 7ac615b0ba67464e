"""The OpenAPI document tells the truth about what the core adds to every route.

Domains declare the statuses their own rules answer (404, 409, ...). The answers that come
from shared machinery are declared here, from what each route actually depends on:
- a JSON body: 400 (malformed JSON), 413 (too large), 422 (invalid);
- a `cursor` query parameter: 400 (a cursor that is not one of ours);
- any parameter: 422;
- the rate-limit dependency: 400 (malformed X-Device-Id), 503 (database unavailable) and,
  but for signed webhooks, 429 and 403 (an address blocked after abuse);
- the bearer token: 401, 403 (suspended); the token is *required* only where the route
  depends on `signed_in` (the caller must be signed in), optional elsewhere (public reads
  that tailor their answer to a signed-in caller).
Every error response carries the error envelope's schema.
"""

import json
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import _get_api_route_for_openapi, get_openapi
from fastapi.routing import iter_route_contexts

from app.core.errors import ERROR_RESPONSES
from app.core.ratelimit import SIGNED_WEBHOOK_PATHS
from app.core.schemas import ErrorEnvelope

METHODS = ("get", "post", "put", "patch", "delete")
ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorEnvelope"}
FASTAPI_VALIDATION_ERROR = "#/components/schemas/HTTPValidationError"
BODY_ERRORS = {400: "Malformed JSON body", 413: "Request body too large",
               422: "Validation failed"}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _declare(operation: dict[str, Any], code: int, description: str | None = None) -> None:
    responses = operation.setdefault("responses", {})
    if str(code) not in responses:
        responses[str(code)] = {"description": description or ERROR_RESPONSES[code]["description"]}


def _declare_core_statuses(operation: dict[str, Any], path: str, rate_limited: bool) -> None:
    if "requestBody" in operation:
        for code, description in BODY_ERRORS.items():
            _declare(operation, code, description)
    parameters = operation.get("parameters", [])
    if any(p["in"] == "query" and p["name"] == "cursor" for p in parameters):
        _declare(operation, 400, "Invalid cursor")
    if parameters:
        _declare(operation, 422)
    if rate_limited:
        _declare(operation, 400)
        _declare(operation, 503)
        if path not in SIGNED_WEBHOOK_PATHS:
            _declare(operation, 429)
            _declare(operation, 403, "Your role or scope does not allow this, or the address "
                                     "is blocked after repeated abuse")
    if operation.get("security"):
        for code in (401, 403):
            _declare(operation, code)


def _set_security(operation: dict[str, Any], required: bool) -> None:
    schemes = operation.get("security")
    if schemes and not required:
        # An empty requirement makes the token optional: anonymous callers are welcome.
        operation["security"] = [{}, *schemes]


def _attach_error_schema(operation: dict[str, Any]) -> None:
    for code, response in operation.get("responses", {}).items():
        # FastAPI's own 422 model (a bare `detail` list) is not what the handlers answer.
        if code[0] in "45" and (
                "content" not in response or FASTAPI_VALIDATION_ERROR in json.dumps(response)):
            response["content"] = {"application/json": {"schema": ERROR_SCHEMA}}


def install_openapi(app: FastAPI, *, rate_limit: Callable[..., Any],
                    signed_in: Callable[..., Any]) -> None:
    """Generate the document once, then complete it from each route's dependencies."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(
            title=app.title, version=app.version, openapi_version=app.openapi_version,
            description=app.description, routes=app.routes, tags=app.openapi_tags,
            servers=app.servers,
        )
        # FastAPI's own walk over included routers, with their dependencies applied.
        for context in iter_route_contexts(app.routes):
            route = _get_api_route_for_openapi(context)
            if route is None or not route.include_in_schema:
                continue
            calls = set(_calls(route.dependant))
            item = document["paths"].get(route.path_format, {})
            for method in route.methods:
                operation = item.get(method.lower())
                if operation is None:
                    continue
                _declare_core_statuses(operation, route.path_format, rate_limit in calls)
                _set_security(operation, signed_in in calls)
                _attach_error_schema(operation)
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        schemas["ErrorEnvelope"] = ErrorEnvelope.model_json_schema(
            ref_template="#/components/schemas/{model}", by_alias=True)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
