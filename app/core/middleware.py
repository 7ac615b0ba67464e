"""Request context (trace id, source) for every request, an access log line, and a last
line of defence that turns any unhandled exception into a 500 envelope."""

import json
import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.context import RequestSource, reset_source, sane_request_id, set_source
from app.core.errors import envelope

log = logging.getLogger("app.access")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, trust_proxy_headers: bool = False) -> None:
        self.app = app
        self.trust_proxy_headers = trust_proxy_headers

    def _client_ip(self, scope: Scope) -> str | None:
        if self.trust_proxy_headers and (forwarded := _header(scope, b"x-forwarded-for")):
            return forwarded.split(",")[0].strip()
        client = scope.get("client")
        return client[0] if client else None

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
        except Exception:
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
