"""Media of a job: uploads checked by content and size while they stream, images stripped
of their metadata, bytes stored once per content in GridFS, served to the job's participants.

Upload: a multipart body with `jobId` and `file` (send `jobId` first: a non-participant is
then refused before any byte of the file is stored; in the other order the file is staged
and dropped). The file's first bytes decide what it is (formats.py); images (at most
MEDIA_MAX_IMAGE_BYTES) are held in memory and re-encoded without metadata (images.py);
videos (at most MEDIA_MAX_VIDEO_BYTES) stream into a GridFS file as they arrive, hashed on
the way, and are stored as sent. A limit crossed mid-stream stops reading the body at once
(413) and drops what was staged.

De-duplication: the bytes as stored are keyed by their SHA-256 (`MediaBlob`, whose `_id` is
the digest): the same content sent twice, by anyone to any job, is one GridFS file. Each
(job, uploader, content) gets one `Media` record: the same person sending the same bytes to
the same job again (a retry) gets the first record back (`created` false); anyone else, or
another job, gets a record of its own pointing at the same file.
"""

import asyncio
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from gridfs.asynchronous.grid_file import AsyncGridIn
from pymongo.errors import DuplicateKeyError

from app.audit import service as audit
from app.core.config import settings
from app.core.config_realtime import MediaSettings
from app.core.database import Session, transaction
from app.core.permissions import Actor
from app.jobs import service as jobs_service
from app.jobs.exceptions import JobNotFound
from app.jobs.service import Job
from app.media import repository
from app.media.exceptions import MediaNotFound, MediaTooLarge, UnsupportedMedia, UploadFieldsInvalid
from app.media.formats import SNIFF_BYTES, MediaFormat, recognise
from app.media.formdata import Part
from app.media.images import CleanImage, strip_metadata
from app.media.models import Media, MediaBlob, MediaKind

# Room for the multipart framing (boundaries, part headers, the jobId field) above the
# largest file: the whole request body may be this much larger than MEDIA_MAX_VIDEO_BYTES.
MULTIPART_ALLOWANCE = 64 * 1024


def upload_body_limit(media: MediaSettings) -> int:
    """The request body cap of the upload route (instead of the app-wide MAX_BODY_BYTES)."""
    return max(media.max_video_bytes, media.max_image_bytes) + MULTIPART_ALLOWANCE


@dataclass
class Received:
    """An uploaded file as read: an image's bytes, or a video staged in GridFS."""

    fmt: MediaFormat
    data: bytes = b""
    staged: AsyncGridIn | None = None
    size: int = 0
    sha256: str = ""


@dataclass(frozen=True)
class Uploaded:
    media: Media
    created: bool  # false: this uploader had sent this content to this job before


async def upload(actor: Actor, parts: AsyncIterator[Part]) -> Uploaded:
    """Take a streamed upload to a job the caller takes part in; see the module docstring."""
    limits = settings().media
    job: Job | None = None
    received: Received | None = None
    try:
        async for part in parts:
            if part.name == "jobId":
                if job is not None:
                    raise UploadFieldsInvalid("jobId", "Send jobId once")
                job_id = (await part.text()).strip()
                if not job_id:
                    raise UploadFieldsInvalid("jobId", "Field required")
                job = await jobs_service.participant_job(actor, job_id)
            elif part.name == "file":
                if received is not None:
                    raise UploadFieldsInvalid("file", "One file per upload")
                received = await _receive(part.chunks(), limits)
            else:
                raise UploadFieldsInvalid(part.name, "Unknown field (expected file and jobId)")
        if job is None:
            raise UploadFieldsInvalid("jobId", "Field required")
        if received is None:
            raise UploadFieldsInvalid("file", "Field required")
        blob, clean = await _store(received)
    except BaseException:
        if received is not None and received.staged is not None and not received.staged.closed:
            await received.staged.abort()
        raise
    return await _record(actor, job, received.fmt, blob, clean)


async def _receive(chunks: AsyncIterator[bytes], limits: MediaSettings) -> Received:
    """Read the file part: recognise it from its first bytes, then take the rest within the
    limit of its kind, stopping at the first byte over it."""
    head = bytearray()
    async for chunk in chunks:
        head += chunk
        if len(head) >= SNIFF_BYTES:
            break
    fmt = recognise(bytes(head[:SNIFF_BYTES]))
    if fmt is None:
        raise UnsupportedMedia
    if fmt.kind is MediaKind.IMAGE:
        data = head
        limit = limits.max_image_bytes
        if len(data) > limit:
            raise MediaTooLarge("image", limit)
        async for chunk in chunks:
            data += chunk
            if len(data) > limit:
                raise MediaTooLarge("image", limit)
        return Received(fmt, data=bytes(data), size=len(data))
    return await _stage_video(fmt, bytes(head), chunks, limits.max_video_bytes)


async def _stage_video(fmt: MediaFormat, head: bytes, chunks: AsyncIterator[bytes],
                       limit: int) -> Received:
    staged = repository.open_upload(fmt.content_type)
    received = Received(fmt, staged=staged)
    digest = hashlib.sha256()
    size = 0

    async def write(chunk: bytes) -> None:
        nonlocal size
        size += len(chunk)
        if size > limit:
            raise MediaTooLarge("video", limit)
        digest.update(chunk)
        await staged.write(chunk)

    try:
        await write(head)
        async for chunk in chunks:
            await write(chunk)
    except BaseException:
        await staged.abort()
        raise
    received.size, received.sha256 = size, digest.hexdigest()
    return received


async def _store(received: Received) -> tuple[MediaBlob, CleanImage | None]:
    """The stored content of the upload (stored now, or found stored already)."""
    if received.staged is not None:
        await received.staged.close()
        file_id = str(received.staged._id)
        await repository.set_file_digest(file_id, received.sha256)
        blob = MediaBlob(id=received.sha256, gridfs_id=file_id,
                         content_type=received.fmt.content_type, size=received.size)
        return await _claim(blob), None
    clean = await asyncio.to_thread(strip_metadata, received.data, received.fmt)
    sha256 = hashlib.sha256(clean.data).hexdigest()
    existing = await repository.get_blob(sha256)
    if existing is not None:
        return existing, clean
    file_id = await repository.store(clean.data, received.fmt.content_type, sha256)
    blob = MediaBlob(id=sha256, gridfs_id=file_id, content_type=received.fmt.content_type,
                     size=len(clean.data))
    return await _claim(blob), clean


async def _claim(blob: MediaBlob) -> MediaBlob:
    """Make `blob` the stored copy of its content, unless another upload got there first:
    then its GridFS file goes and the first one is used."""
    try:
        await repository.insert_blob(blob)
        return blob
    except DuplicateKeyError:
        await repository.delete_file(blob.gridfs_id)
        winner = await repository.get_blob(blob.id)
        assert winner is not None  # blobs are never deleted
        return winner


async def _record(actor: Actor, job: Job, fmt: MediaFormat, blob: MediaBlob,
                  clean: CleanImage | None) -> Uploaded:
    existing = await repository.find_same(job.id, actor.id, blob.id)
    if existing is not None:
        return Uploaded(existing, created=False)

    async def work(session: Session) -> Media:
        # A fresh document each attempt: the callback may run again after a write conflict.
        media = Media(job_id=job.id, uploader_id=actor.id, kind=fmt.kind,
                      content_type=blob.content_type, size=blob.size, sha256=blob.id,
                      gridfs_id=blob.gridfs_id, width=clean.width if clean else None,
                      height=clean.height if clean else None)
        await repository.insert(session, media)
        await audit.record(
            session, actor=actor, action="media.uploaded", subject_type="media",
            subject_id=media.id,
            metadata={"jobId": job.id, "contentType": media.content_type, "size": media.size,
                      "sha256": media.sha256},
        )
        return media

    try:
        return Uploaded(await transaction(work), created=True)
    except DuplicateKeyError:
        first = await repository.find_same(job.id, actor.id, blob.id)
        if first is None:
            raise
        return Uploaded(first, created=False)


async def visible_media(actor: Actor, media_id: str) -> Media:
    """A media of a job the caller takes part in (its parties and admins); 404 otherwise."""
    media = await repository.get(media_id)
    if media is None:
        raise MediaNotFound
    try:
        await jobs_service.participant_job(actor, media.job_id)
    except JobNotFound:
        raise MediaNotFound from None
    return media


def content(media: Media, start: int, end: int) -> AsyncIterator[bytes]:
    """Bytes `start`..`end` (inclusive) of the media, streamed from GridFS chunk by chunk."""
    return repository.read_range(media.gridfs_id, start, end)


async def media_belongs_to(job_id: str, media_ids: list[str]) -> bool:
    """True when every id is a media of that job (and so for an empty list)."""
    wanted = list(dict.fromkeys(media_ids))
    if not wanted:
        return True
    return await repository.count_of_job(job_id, wanted) == len(wanted)


async def records(media_ids: list[str]) -> list[Media]:
    """The records (never the bytes) of these media: kind, content type, size, digest."""
    return await repository.get_many(media_ids)
