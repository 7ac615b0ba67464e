"""Size limits hold while the upload streams: under a real uvicorn server the app stops
reading the body just past the limit and answers 413 while the client is still sending, and
nothing of the file stays stored.

The app is metered: the request body bytes it read, and how much the client had sent when
the answer started (client and server share this event loop, so that moment is exact).
After the answer uvicorn reads and discards the rest of the body on the open connection
(closing it instead would reset the connection under the unread upload, and clients would
lose the 413 itself), so the client does send everything, and only then reads the answer.
"""

import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import Settings
from app.main import create_app
from tests.helpers import Api, assert_error
from tests.live import _loopback_socket, serve
from tests.media.factories import NOTHING_STORED, JobParties, png, repair_job, stored_counts

BOUNDARY = "media-test-boundary-7d41"
MIB = 1024 * 1024
PIECE = 64 * 1024
OVERSIZED = 128 * MIB
# What the client can have handed to the kernel before the server's answer: loopback send
# and receive buffers autotune up to tcp_wmem/tcp_rmem max (4 MiB + 32 MiB here), whatever
# the app read. The app's own reading is asserted exactly (Metered.read).
IN_FLIGHT = 64 * MIB
MP4_HEAD = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"


class CountingUpload:
    """A multipart body (jobId, then a `total`-byte file starting with `head`) produced piece
    by piece as the client sends it; `sent` is how many bytes the client has taken."""

    def __init__(self, job_id: str, head: bytes, total: int) -> None:
        self.prefix = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="jobId"\r\n\r\n{job_id}\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode() + head
        self.suffix = f"\r\n--{BOUNDARY}--\r\n".encode()
        self.file_rest = total - len(head)
        self.sent = 0

    @property
    def length(self) -> int:
        return len(self.prefix) + self.file_rest + len(self.suffix)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.sent += len(self.prefix)
        yield self.prefix
        left = self.file_rest
        while left > 0:
            piece = bytes(min(PIECE, left))
            left -= len(piece)
            self.sent += len(piece)
            yield piece
        self.sent += len(self.suffix)
        yield self.suffix


class Metered:
    """The app, counting the request body bytes it reads and noting how much of `upload` the
    client had sent when the answer started."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.upload: CountingUpload | None = None
        self.read = 0
        self.sent_when_answered: int | None = None

    def watch(self, upload: "CountingUpload") -> None:
        self.upload, self.read, self.sent_when_answered = upload, 0, None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/api/media":
            await self.app(scope, receive, send)
            return

        async def counted_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                self.read += len(message.get("body", b""))
            return message

        async def noted_send(message: Message) -> None:
            if message["type"] == "http.response.start" and self.upload is not None:
                self.sent_when_answered = self.upload.sent
            await send(message)

        await self.app(scope, counted_receive, noted_send)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def access_log() -> Iterator[list[logging.LogRecord]]:
    """The records of the app's access logger while the block runs."""
    handler, logger = _Collect(), logging.getLogger("app.access")
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)


@pytest.fixture
async def metered(config: Settings) -> AsyncIterator[Metered]:
    sock = _loopback_socket()
    live_config = config.model_copy(update={"host": "127.0.0.1", "port": sock.getsockname()[1]})
    app = Metered(create_app(live_config))
    try:
        async with serve(app, sock) as base_url:
            app.base_url = base_url  # type: ignore[attr-defined]
            yield app
    finally:
        client: AsyncMongoClient = AsyncMongoClient(config.database.mongodb_url)
        await client.drop_database(config.database.mongodb_db)
        await client.close()


@pytest.fixture
async def live_api(metered: Metered) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=metered.base_url, timeout=60) as http:  # type: ignore[attr-defined]
        yield Api(http)


async def _send(api: Api, job: JobParties, body: CountingUpload,
                **headers: str) -> httpx.Response:
    return await api.client.post(
        "/api/media", content=body.__aiter__(),
        headers={**job.customer.headers, **headers,
                 "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )


@pytest.mark.settings(media={"max_video_bytes": MIB, "max_image_bytes": 4 * MIB})
async def test_oversized_video_is_cut_off_while_streaming(
    live_api: Api, metered: Metered, mongo_db: AsyncDatabase,
) -> None:
    job = await repair_job(live_api)
    body = CountingUpload(job.job_id, MP4_HEAD, total=OVERSIZED)
    metered.watch(body)

    response = await _send(live_api, job, body)  # chunked: no length announced

    error = assert_error(response, 413)
    assert error["data"] == {"code": "MEDIA_TOO_LARGE", "kind": "video", "maxBytes": MIB}
    assert MIB < metered.read < MIB + 2 * PIECE + len(body.prefix) + 64 * 1024, metered.read
    assert metered.sent_when_answered is not None
    assert metered.sent_when_answered < IN_FLIGHT < body.length, metered.sent_when_answered
    assert await stored_counts(mongo_db) == NOTHING_STORED


@pytest.mark.settings(media={"max_video_bytes": 4 * MIB, "max_image_bytes": MIB})
async def test_oversized_image_is_cut_off_at_the_image_limit(
    live_api: Api, metered: Metered, mongo_db: AsyncDatabase,
) -> None:
    job = await repair_job(live_api)
    body = CountingUpload(job.job_id, png(), total=OVERSIZED)  # a PNG, then zeros
    metered.watch(body)

    response = await _send(live_api, job, body)

    error = assert_error(response, 413)
    assert error["data"] == {"code": "MEDIA_TOO_LARGE", "kind": "image", "maxBytes": MIB}
    assert metered.read < MIB + 2 * PIECE + len(body.prefix) + 64 * 1024, metered.read
    assert metered.sent_when_answered is not None
    assert metered.sent_when_answered < IN_FLIGHT, metered.sent_when_answered
    assert await stored_counts(mongo_db) == NOTHING_STORED


async def test_announced_length_above_the_cap_is_refused_before_reading(
    live_api: Api, metered: Metered, mongo_db: AsyncDatabase,
) -> None:
    job = await repair_job(live_api)
    body = CountingUpload(job.job_id, MP4_HEAD, total=200 * MIB)  # default limits: 50 MB
    metered.watch(body)

    with access_log() as records:
        response = await _send(live_api, job, body, **{"Content-Length": str(body.length)})

    error = assert_error(response, 413)
    assert error["message"] == "Request body too large"
    assert metered.read == 0
    # An expected refusal, not an "unhandled error" with a traceback.
    assert [r.getMessage() for r in records if r.levelno >= logging.ERROR] == []
    assert metered.sent_when_answered is not None
    assert metered.sent_when_answered < IN_FLIGHT, metered.sent_when_answered
    assert await stored_counts(mongo_db) == NOTHING_STORED


async def test_upload_route_accepts_bodies_above_the_app_wide_cap(
    live_api: Api, metered: Metered, mongo_db: AsyncDatabase,
) -> None:
    """MAX_BODY_BYTES (1 MiB) holds everywhere else; the upload route has its own cap."""
    job = await repair_job(live_api)
    body = CountingUpload(job.job_id, MP4_HEAD, total=3 * MIB)
    metered.watch(body)

    response = await _send(live_api, job, body, **{"Content-Length": str(body.length)})

    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    assert (data["contentType"], data["size"]) == ("video/mp4", 3 * MIB)
    assert metered.read == body.length
    assert (await stored_counts(mongo_db))["media.chunks"] == 13  # 3 MiB in 255 KiB chunks
    elsewhere = await live_api.client.post(
        "/api/orders", content=b"{" + b" " * (2 * MIB) + b"}",
        headers={**job.customer.headers, "Content-Type": "application/json"})
    assert_error(elsewhere, 413)
