"""The errors this domain raises, each an AppError subclass with its status and message."""

from app.core.errors import AppError, BadRequest, NotFound, RuleViolation

UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
MEDIA_TOO_LARGE = "MEDIA_TOO_LARGE"
ACCEPTED_TYPES = ["image/jpeg", "image/png", "image/webp", "video/mp4", "video/webm"]


class MediaNotFound(NotFound):
    default_message = "Media not found"


class UnsupportedMedia(AppError):
    """The content (its first bytes, never its name or declared type) is none we accept."""

    status_code = 415
    default_message = ("Unsupported file: only JPEG, PNG and WebP images and MP4 and WebM "
                       "videos are accepted (recognised by their content)")

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, {"code": UNSUPPORTED_MEDIA_TYPE, "accepted": ACCEPTED_TYPES})


class MediaTooLarge(AppError):
    status_code = 413
    default_message = "File too large"

    def __init__(self, kind: str, limit: int) -> None:
        super().__init__(
            f"The {kind} is larger than the {limit}-byte limit for {kind}s",
            {"code": MEDIA_TOO_LARGE, "kind": kind, "maxBytes": limit},
        )


class MalformedUpload(BadRequest):
    default_message = "Malformed multipart/form-data body"


class UploadFieldsInvalid(RuleViolation):
    """A missing, repeated or unknown form field (422 with `data.errors`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__("Validation failed", {"errors": [{"field": f"body.{field}",
                                                             "message": message}]})


class UnsatisfiableRange(AppError):
    status_code = 416
    default_message = "The requested range is outside the file"

    def __init__(self, size: int) -> None:
        super().__init__(data={"size": size}, headers={"Content-Range": f"bytes */{size}"})
