"""HTTP only: parse the request, call the service, return the schema. No queries, no rules.

The upload route reads its body as a stream (formdata.py) under its own body cap; the app
includes this router with `max_body_size=service.upload_body_limit(...)` instead of the
app-wide MAX_BODY_BYTES, as it does the payment webhook's.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from app.auth.dependencies import CurrentActor
from app.core.errors import responses
from app.core.schemas import Envelope, ok
from app.media import service
from app.media.formats import EXTENSIONS
from app.media.formdata import FormStream
from app.media.ranges import byte_range, etag_matches, etag_of
from app.media.schemas import UPLOAD_BODY, MediaRead

router = APIRouter(tags=["Media"], responses=responses(401))
MediaId = Annotated[str, Path(alias="mediaId", max_length=64)]
CACHE_CONTROL = "private, max-age=86400"
UPLOAD_ERRORS = {
    **responses(400, 404, 422),
    413: {"description": "File above its kind's limit (cut off while streaming)"},
    415: {"description": "Content is not a JPEG, PNG, WebP, MP4 or WebM file"},
}


@router.post("/api/media", status_code=201, response_model=None, openapi_extra={
    "requestBody": UPLOAD_BODY}, responses={
    201: {"model": Envelope[MediaRead], "description": "Stored"},
    200: {"model": Envelope[MediaRead], "description": "You sent this file to this job before"},
    **UPLOAD_ERRORS})
async def upload_media(request: Request, actor: CurrentActor) -> Any:
    """Upload an image or video to a job you take part in (multipart: jobId, then file).

    What the file is comes from its content, never its name or declared type (415 for
    anything else); images lose their EXIF/GPS metadata; 413 as soon as the body passes the
    limit of the file's kind. The same file sent again by you to the same job returns the
    first record (200)."""
    uploaded = await service.upload(actor, FormStream(request).parts())
    body = ok(MediaRead.of(uploaded.media),
              "Media uploaded" if uploaded.created else "Already uploaded")
    return JSONResponse(body.model_dump(mode="json", by_alias=True),
                        status_code=201 if uploaded.created else 200)


BINARY = {"schema": {"type": "string", "format": "binary"}}
FILE_CONTENT = {"image/*": BINARY, "video/*": BINARY}


@router.get("/api/media/{mediaId}", response_class=Response, responses={
    200: {"description": "The file", "content": FILE_CONTENT},
    206: {"description": "The requested byte range (Content-Range)", "content": FILE_CONTENT},
    304: {"description": "Not modified (If-None-Match names the ETag)"},
    **responses(404), 416: {"description": "Range outside the file"}})
async def download_media(
    media_id: MediaId, actor: CurrentActor,
    range_header: Annotated[str | None, Header(alias="Range")] = None,
    if_range: Annotated[str | None, Header(alias="If-Range")] = None,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
) -> Response:
    """A job's image or video, for the job's participants: ETag, If-None-Match (304) and
    single byte ranges (206; 416 outside the file), streamed from GridFS."""
    media = await service.visible_media(actor, media_id)
    etag = etag_of(media.sha256)
    headers = {"ETag": etag, "Accept-Ranges": "bytes", "Cache-Control": CACHE_CONTROL,
               "X-Content-Type-Options": "nosniff"}
    if etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    selected = byte_range(range_header, if_range, etag, media.size)
    first, last = selected or (0, media.size - 1)
    headers["Content-Length"] = str(last - first + 1)
    headers["Content-Disposition"] = (
        f'inline; filename="{media.id}.{EXTENSIONS.get(media.content_type, "bin")}"')
    if selected is not None:
        headers["Content-Range"] = f"bytes {first}-{last}/{media.size}"
    return StreamingResponse(service.content(media, first, last),
                             status_code=206 if selected else 200,
                             media_type=media.content_type, headers=headers)
