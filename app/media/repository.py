"""Every query on this domain's collections: `media`, `media_blobs` and the GridFS bucket
`media` (`media.files`, `media.chunks`).

Media are seen by the participants of their job, a rule of the jobs domain: reads here are
by id for the service, which asks `jobs.participant_job` before showing anything.

Downloads read the bucket's chunks one at a time by `(files_id, n)` — the GridFS index's
exact key — rather than through `AsyncGridOut`: its cursor fetches batches of up to 16 MiB
(a 100-byte range read of a 50 MB video pulled ~16 MB, measured), while this holds one
255 KiB chunk in memory and reads only the chunks a range covers.
"""

import contextlib
from collections.abc import AsyncIterator

from bson import ObjectId
from gridfs import AsyncGridFSBucket
from gridfs.asynchronous.grid_file import AsyncGridIn
from gridfs.errors import NoFile
from pymongo.asynchronous.collection import AsyncCollection

from app.core.database import Session, get_database
from app.media.models import GRIDFS_BUCKET, Media, MediaBlob


def _bucket() -> AsyncGridFSBucket:
    return AsyncGridFSBucket(get_database().db, bucket_name=GRIDFS_BUCKET)


def _chunks() -> AsyncCollection:
    return get_database().db[f"{GRIDFS_BUCKET}.chunks"]


def _files() -> AsyncCollection:
    return get_database().db[f"{GRIDFS_BUCKET}.files"]


# --- GridFS ---------------------------------------------------------------------------

def open_upload(content_type: str) -> AsyncGridIn:
    """A new GridFS file written piece by piece; `close()` commits it, `abort()` drops it."""
    return _bucket().open_upload_stream(
        f"upload.{content_type.split('/')[-1]}", metadata={"contentType": content_type}
    )


async def store(data: bytes, content_type: str, sha256: str) -> str:
    """A new GridFS file holding `data`; its id."""
    file_id = await _bucket().upload_from_stream(
        f"{sha256}.{content_type.split('/')[-1]}", data,
        metadata={"contentType": content_type, "sha256": sha256},
    )
    return str(file_id)


async def set_file_digest(file_id: str, sha256: str) -> None:
    """Name a streamed file by its digest once it is known (for operators reading the bucket)."""
    await _files().update_one({"_id": ObjectId(file_id)},
                              {"$set": {"metadata.sha256": sha256}})


async def delete_file(file_id: str) -> None:
    with contextlib.suppress(NoFile):
        await _bucket().delete(ObjectId(file_id))


async def chunk_size(file_id: str) -> int:
    doc = await _files().find_one({"_id": ObjectId(file_id)}, {"chunkSize": 1})
    if doc is None:
        raise NoFile(file_id)
    return int(doc["chunkSize"])


async def read_range(file_id: str, start: int, end: int) -> AsyncIterator[bytes]:
    """Bytes `start`..`end` (inclusive) of a GridFS file, one chunk at a time."""
    oid = ObjectId(file_id)
    size = await chunk_size(file_id)
    for n in range(start // size, end // size + 1):
        doc = await _chunks().find_one({"files_id": oid, "n": n}, {"data": 1})
        if doc is None:
            raise NoFile(f"chunk {n} of {file_id} is missing")
        data: bytes = doc["data"]
        base = n * size
        yield data[max(start - base, 0):end - base + 1]


# --- blobs (one per distinct content) ---------------------------------------------------

async def get_blob(sha256: str) -> MediaBlob | None:
    return await MediaBlob.get(sha256)


async def insert_blob(blob: MediaBlob) -> None:
    """Raises DuplicateKeyError when that content is stored already (`_id` is the digest)."""
    await blob.insert()


# --- media records ----------------------------------------------------------------------

async def get(media_id: str) -> Media | None:
    return await Media.get(media_id)


async def find_same(job_id: str, uploader_id: str, sha256: str) -> Media | None:
    return await Media.find_one({"job_id": job_id, "uploader_id": uploader_id,
                                 "sha256": sha256})


async def insert(session: Session, media: Media) -> None:
    """Raises DuplicateKeyError when this uploader sent this content to this job already."""
    await media.insert(session=session)


async def count_of_job(job_id: str, media_ids: list[str]) -> int:
    """How many of `media_ids` are media of `job_id`."""
    return await Media.get_pymongo_collection().count_documents(
        {"_id": {"$in": media_ids}, "job_id": job_id}
    )


async def get_many(media_ids: list[str]) -> list[Media]:
    """The media records of these ids (by `_id`)."""
    if not media_ids:
        return []
    cursor = Media.get_pymongo_collection().find({"_id": {"$in": media_ids}})
    return [Media.model_validate(doc) async for doc in cursor]
