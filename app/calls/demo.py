"""The call demo page (`/demo/call`): sign in, join a job's chat, call the other party with
WebRTC through this server. Served in development and test only (404 in production), with
its scripts, the vendored Socket.IO client included, from the app itself (never a CDN)."""

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse

from app.core.config import Environment, Settings

STATIC = Path(__file__).parent / "static"
_FILES = {
    "/demo/call": ("call.html", "text/html; charset=utf-8"),
    "/demo/call/app.js": ("call.js", "text/javascript; charset=utf-8"),
    "/demo/call/socket.io.min.js": ("socket.io.min.js", "text/javascript; charset=utf-8"),
}


def install_demo(app: FastAPI, config: Settings) -> None:
    if config.app_env is Environment.PRODUCTION:
        return
    for path, (name, media_type) in _FILES.items():
        app.add_api_route(path, _file_route(STATIC / name, media_type), methods=["GET"],
                          include_in_schema=False)


def _file_route(file: Path, media_type: str) -> Callable[[], Awaitable[FileResponse]]:
    # A closure, not default arguments: FastAPI would take those as query parameters.
    async def serve() -> FileResponse:
        return FileResponse(file, media_type=media_type, headers={"Cache-Control": "no-store"})

    return serve
