"""Typed application errors; one set of handlers turns every failure into the envelope."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pymongo.errors import ConnectionFailure
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.context import current_trace_id

log = logging.getLogger(__name__)
MALFORMED_BODY = "Malformed JSON body"


class AppError(Exception):
    status_code = 400
    default_message = "Bad request"

    def __init__(
        self,
        message: str | None = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.data = data
        self.headers = headers
        super().__init__(self.message)


class BadRequest(AppError):
    status_code = 400


class Unauthenticated(AppError):
    status_code = 401
    default_message = "Authentication required"


class Forbidden(AppError):
    status_code = 403
    default_message = "You do not have permission to do this"


class OverrideForbidden(Forbidden):
    default_message = "Overrides belong to the ops leader (admin scope ops_lead)"


class NotFound(AppError):
    status_code = 404
    default_message = "Not found"


class Conflict(AppError):
    status_code = 409
    default_message = "Conflict"


class IllegalTransition(Conflict):
    default_message = "This action is not allowed in the current state"


class RuleViolation(AppError):
    status_code = 422
    default_message = "Business rule violated"


class ReasonRequired(RuleViolation):
    default_message = "A reason is required for this action"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, {"errors": [{"field": "body.reason", "message": "required"}]})


class TooManyRequests(AppError):
    status_code = 429
    default_message = "Too many requests"

    def __init__(self, message: str | None = None, retry_after: int = 60) -> None:
        super().__init__(message, {"retryAfter": retry_after}, {"Retry-After": str(retry_after)})


class DatabaseUnavailable(AppError):
    """The database does not answer (down, restarting, unreachable): try again shortly."""

    status_code = 503
    default_message = "The database is unavailable; try again shortly"
    RETRY_AFTER_SECONDS = 5

    def __init__(self, message: str | None = None, retry_after: int = RETRY_AFTER_SECONDS) -> None:
        super().__init__(message, {"retryAfter": retry_after}, {"Retry-After": str(retry_after)})


def envelope(success: bool, message: str, data: Any = None) -> dict[str, Any]:
    return {"success": success, "message": message, "data": data, "traceId": current_trace_id()}


def error_response(
    status_code: int, message: str, data: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(envelope(False, message, data), status_code=status_code, headers=headers)


def _field_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _is_malformed_body(errors: list[dict[str, Any]]) -> bool:
    return any(error.get("type") == "json_invalid" for error in errors)


async def _app_error(_: Request, exc: AppError) -> JSONResponse:
    return error_response(exc.status_code, exc.message, exc.data, exc.headers)


async def _database_unavailable(_: Request, exc: ConnectionFailure) -> JSONResponse:
    # ServerSelectionTimeoutError, AutoReconnect, NetworkTimeout: all ConnectionFailure.
    log.warning("database unavailable", extra={"error": type(exc).__name__})
    unavailable = DatabaseUnavailable()
    return error_response(unavailable.status_code, unavailable.message, unavailable.data,
                          unavailable.headers)


async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = list(exc.errors())
    if _is_malformed_body(errors):
        return error_response(400, MALFORMED_BODY)
    fields = [
        {"field": _field_path(error["loc"]), "message": error["msg"]} for error in errors
    ]
    return error_response(422, "Validation failed", {"errors": fields})


async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    # FastAPI's only own 400 is a body it cannot decode (not UTF-8, not JSON): the same
    # answer as a body that is not valid JSON.
    messages = {400: MALFORMED_BODY, 404: "Route not found", 405: "Method not allowed"}
    message = messages.get(exc.status_code) or str(exc.detail)
    return error_response(exc.status_code, message, None, getattr(exc, "headers", None))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(ConnectionFailure, _database_unavailable)  # type: ignore[arg-type]


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed request"},
    401: {"description": "Not signed in, or the token is no longer valid"},
    403: {"description": "Your role or scope does not allow this"},
    404: {"description": "Not found, or not yours"},
    409: {"description": "Conflict or illegal state transition"},
    422: {"description": "Validation or business-rule failure"},
    429: {"description": "Rate limited; see Retry-After"},
    502: {"description": "The payment gateway refused the request (its reason in the message)"},
    503: {"description": "Database unavailable; see Retry-After"},
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI error responses a route declares."""
    return {code: ERROR_RESPONSES[code] for code in codes}
