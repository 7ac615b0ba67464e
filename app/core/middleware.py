"""Request context (trace id, source) for every request, an access log line, request
metrics, security headers, and a last line of defence that turns any unhandled exception into
a 500 envelope."""

import json
import logging
import time

from fastapi._body_limit import get_body_limit_error
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.client_ip import client_ip
from app.core.context import RequestSource, reset_source, sane_request_id, set_source
from app.core.errors import envelope
from app.core.metrics import HTTP_LATENCY, HTTP_REQUESTS, UNMATCHED_ROUTE

log = logging.getLogger("app.access")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, trusted_proxies: tuple[str, ...] = ()) -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies

    def _client_ip(self, scope: Scope) -> str | None:
        client = scope.get("client")
        return client_ip(
            client[0] if client else None, _header(scope, b"x-forwarded-for"), self.trusted_proxies
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        trace_id = sane_request_id(_header(scope, b"x-request-id"))
        token = set_source(
            RequestSource(
                ip=self._client_ip(scope),
                user_agent=(_header(scope, b"user-agent") or "")[:300] or None,
                trace_id=trace_id,
            )
        )
        started = time.perf_counter()
        status = {"code": 500, "sent": False}

        async def send_with_trace_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["sent"] = message["status"], True
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", trace_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_trace_id)
        except Exception as exc:
            if get_body_limit_error(exc) is not None:
                # The body cap's own signals on their way to its outer layer, which answers
                # (or has answered) 413: an expected refusal, not an error to log.
                raise
            log.exception("unhandled error", extra={"path": scope.get("path")})
            if not status["sent"]:
                await self._internal_error(send_with_trace_id)
        finally:
            log.info(
                "request",
                extra={
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status["code"],
                    "durationMs": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            reset_source(token)

    @staticmethod
    async def _internal_error(send: Send) -> None:
        body = json.dumps(envelope(False, "Internal server error")).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class TooLargeEnvelope:
    """FastAPI's built-in body limit (`max_body_size`) answers 413 in plain text from outside
    every user middleware; this outermost wrapper re-dresses that answer in the envelope."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        replaced = False

        async def send_enveloped(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] == 413:
                content_type = dict(message.get("headers", [])).get(b"content-type", b"")
                replaced = content_type.startswith(b"text/plain")
            if not replaced:
                await send(message)
            elif message["type"] == "http.response.body":
                await self._send_envelope(scope, send)

        await self.app(scope, receive, send_enveloped)

    @staticmethod
    async def _send_envelope(scope: Scope, send: Send) -> None:
        trace_id = sane_request_id(_header(scope, b"x-request-id"))
        body = json.dumps({
            "success": False, "message": "Request body too large", "data": None,
            "traceId": trace_id,
        }).encode()
        await send({
            "type": "http.response.start", "status": 413,
            "headers": [(b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"x-request-id", trace_id.encode())],
        })
        await send({"type": "http.response.body", "body": body})


class MetricsMiddleware:
    """Counts each HTTP request and its duration under its route template
    (`/api/orders/{orderId}`), never the raw path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            # The router records the matched route in the scope it was handed (this one).
            route = getattr(scope.get("route"), "path_format", None)
            template = scope.get("root_path", "") + route if route else UNMATCHED_ROUTE
            labels = (scope.get("method", ""), template, str(status))
            HTTP_REQUESTS.labels(*labels).inc()
            HTTP_LATENCY.labels(*labels).observe(time.perf_counter() - started)


# Swagger UI's page starts itself with an inline script and inline styles; the call demo's
# page loads only its own scripts and media from the camera.
_DOCS_POLICY = (b"default-src 'self'; script-src 'self' 'unsafe-inline'; "
                b"style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
                b"frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
_DEMO_POLICY = (b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                b"img-src 'self' data: blob:; media-src 'self' blob: mediastream:; "
                b"connect-src 'self'; frame-ancestors 'none'; base-uri 'self'")
HSTS = b"max-age=31536000; includeSubDomains"


class SecurityHeaders:
    """The outermost layer: security headers on every HTTP response, including Socket.IO's
    polling answers and the plain 413s answered outside FastAPI's middleware."""

    def __init__(self, app: ASGIApp, strict_transport: bool) -> None:
        self.app = app
        self.common = [(b"x-content-type-options", b"nosniff"),
                       (b"referrer-policy", b"no-referrer"),
                       (b"x-frame-options", b"DENY")]
        if strict_transport:
            self.common.append((b"strict-transport-security", HSTS))

    def _headers_for(self, path: str) -> list[tuple[bytes, bytes]]:
        if path == "/docs" or path.endswith("/docs"):
            return [*self.common, (b"content-security-policy", _DOCS_POLICY)]
        if path.startswith("/demo/"):
            return [*self.common, (b"content-security-policy", _DEMO_POLICY)]
        return self.common

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self._headers_for(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *(pair for pair in extra if pair[0] not in present)]
            await send(message)

        await self.app(scope, receive, send_with_headers)
