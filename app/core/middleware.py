"""Request context (trace id, source) for every request, an access log line, and a last
line of defence that turns any unhandled exception into a 500 envelope."""

import json
import logging
import time

from fastapi._body_limit import get_body_limit_error
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.client_ip import client_ip
from app.core.context import RequestSource, reset_source, sane_request_id, set_source
from app.core.errors import envelope

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
