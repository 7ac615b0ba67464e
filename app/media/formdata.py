"""A multipart/form-data body read as it arrives: parts one after another, each part's bytes
as they come off the socket, so an upload can be measured, checked and stored while it
streams (nothing waits for the whole body, nothing holds it all in memory).

python-multipart's push parser (`MultipartParser`) is fed `request.stream()`; its callbacks
queue events that `FormStream.parts()` and `Part.chunks()` hand out in order. A part's
unread bytes are skipped when the caller moves on to the next part.
"""

from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from app.media.exceptions import MalformedUpload

# (kind, payload): part data carries its bytes, "headers" the part's headers as parsed.
Event = tuple[str, Any]
MAX_FIELD_BYTES = 1024  # a text field (jobId) is short


@dataclass
class Part:
    name: str
    filename: str | None
    _form: "FormStream" = field(repr=False)
    _done: bool = False

    async def chunks(self) -> AsyncIterator[bytes]:
        """The part's bytes, piece by piece as they arrive."""
        while not self._done:
            kind, data = await self._form.next_event()
            if kind == "data":
                yield data
            elif kind == "part_end":
                self._done = True
            else:
                raise MalformedUpload

    async def text(self, max_bytes: int = MAX_FIELD_BYTES) -> str:
        value = bytearray()
        async for chunk in self.chunks():
            value += chunk
            if len(value) > max_bytes:
                raise MalformedUpload(f"Form field {self.name!r} is longer than {max_bytes} bytes")
        try:
            return value.decode()
        except UnicodeDecodeError:
            raise MalformedUpload(f"Form field {self.name!r} is not UTF-8") from None


class FormStream:
    def __init__(self, request: Request) -> None:
        content_type, params = parse_options_header(request.headers.get("content-type"))
        boundary = params.get(b"boundary")
        if content_type != b"multipart/form-data" or not boundary:
            raise MalformedUpload("Send the upload as multipart/form-data (fields `file` and "
                                  "`jobId`)")
        self._body = request.stream().__aiter__()
        self._events: deque[Event] = deque()
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        try:
            self._parser = MultipartParser(boundary, callbacks={
                "on_part_begin": self._on_part_begin,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                # Each part's own dict: one read may parse the headers of several parts.
                "on_headers_finished": lambda: self._events.append(("headers", self._headers)),
                "on_part_data": lambda data, start, end: self._events.append(
                    ("data", bytes(data[start:end]))),
                "on_part_end": lambda: self._events.append(("part_end", b"")),
                "on_end": lambda: self._events.append(("end", b"")),
            })
        except Exception:
            raise MalformedUpload from None

    async def parts(self) -> AsyncIterator[Part]:
        """Each part once its headers are read; unread bytes of the previous one are skipped."""
        part: Part | None = None
        while True:
            if part is not None and not part._done:
                async for _ in part.chunks():
                    pass
            kind, headers = await self.next_event()
            if kind == "end":
                return
            if kind == "part_begin":
                continue
            if kind != "headers":
                raise MalformedUpload
            disposition, params = parse_options_header(headers.get(b"content-disposition"))
            if disposition != b"form-data" or b"name" not in params:
                raise MalformedUpload("A form part has no Content-Disposition name")
            filename = params.get(b"filename")
            part = Part(params[b"name"].decode("utf-8", "replace"),
                        filename.decode("utf-8", "replace") if filename is not None else None,
                        self)
            yield part

    async def next_event(self) -> Event:
        while not self._events:
            try:
                chunk = await self._body.__anext__()
            except StopAsyncIteration:
                raise MalformedUpload("The multipart body ended early") from None
            if chunk:
                try:
                    self._parser.write(chunk)
                except MultipartParseError:
                    raise MalformedUpload from None
        return self._events.popleft()

    def _on_part_begin(self) -> None:
        self._headers = {}
        self._events.append(("part_begin", b""))

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        self._headers[bytes(self._header_name).lower()] = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()
