"""Response models of the media API (the upload is multipart/form-data, read as a stream)."""

from datetime import datetime

from app.core.schemas import APIModel
from app.media.models import Media, MediaKind


class MediaRead(APIModel):
    id: str
    job_id: str
    uploader_id: str
    kind: MediaKind
    content_type: str
    size: int
    sha256: str
    width: int | None = None
    height: int | None = None
    created_at: datetime
    url: str

    @classmethod
    def of(cls, media: Media) -> "MediaRead":
        return cls(id=media.id, job_id=media.job_id, uploader_id=media.uploader_id,
                   kind=media.kind, content_type=media.content_type, size=media.size,
                   sha256=media.sha256, width=media.width, height=media.height,
                   created_at=media.created_at, url=f"/api/media/{media.id}")


UPLOAD_BODY = {
    "required": True,
    "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["jobId", "file"],
        "properties": {
            "jobId": {"type": "string", "description": "rep_… or ord_…; send it before file"},
            "file": {"type": "string", "format": "binary",
                     "description": "JPEG, PNG or WebP image (≤ MEDIA_MAX_IMAGE_BYTES) or MP4 "
                                    "or WebM video (≤ MEDIA_MAX_VIDEO_BYTES)"},
        },
    }}},
}
