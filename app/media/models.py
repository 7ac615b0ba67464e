"""Beanie documents of this domain, their indexes, and `DOCUMENTS` for init_beanie.

The bytes live in GridFS (bucket `media`: collections `media.files` and `media.chunks`),
once per distinct content: `MediaBlob` maps a SHA-256 to its GridFS file, and its `_id`
being the digest is what makes two concurrent uploads of the same bytes store one file.
"""

from datetime import datetime
from enum import StrEnum

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from app.core import clock
from app.core.ids import new_id

GRIDFS_BUCKET = "media"


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"


class MediaBlob(Document):
    """One stored content: `id` is the SHA-256 (hex) of the stored bytes."""

    id: str
    gridfs_id: str  # the GridFS file's ObjectId, as a string
    content_type: str
    size: int
    created_at: datetime = Field(default_factory=clock.utcnow)

    class Settings:
        name = "media_blobs"


class Media(Document):
    """One upload to a job: who sent what, where its bytes are (`sha256` → `MediaBlob`)."""

    id: str = Field(default_factory=lambda: new_id("med"))
    job_id: str  # rep_… or ord_…
    uploader_id: str
    kind: MediaKind
    content_type: str
    size: int
    sha256: str
    gridfs_id: str
    width: int | None = None  # images only
    height: int | None = None
    created_at: datetime = Field(default_factory=clock.utcnow)

    class Settings:
        name = "media"
        indexes = [
            # The same person sending the same bytes to the same job again gets the first
            # record back (a retried upload), never a second one.
            IndexModel([("job_id", ASCENDING), ("uploader_id", ASCENDING),
                        ("sha256", ASCENDING)], unique=True, name="once_per_uploader_content"),
        ]


DOCUMENTS: list[type] = [MediaBlob, Media]
