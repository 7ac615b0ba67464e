"""What a file is, told by its first bytes (never by its name or declared type)."""

from dataclasses import dataclass

from app.media.models import MediaKind

SNIFF_BYTES = 64  # enough for every signature below (WebM's DocType sits in its EBML header)

# ISO base media major brands of MP4 video. HEIC/AVIF images (`heic`, `mif1`, `avif`),
# QuickTime (`qt  `) and audio-only M4A share the `ftyp` box and are refused.
MP4_BRANDS = frozenset({
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8", b"iso9",
    b"mp41", b"mp42", b"avc1", b"M4V ", b"M4VP", b"dash", b"mmp4", b"MSNV",
})


@dataclass(frozen=True)
class MediaFormat:
    kind: MediaKind
    content_type: str
    extension: str
    pillow_format: str | None = None  # images: Pillow's name for re-encoding


JPEG = MediaFormat(MediaKind.IMAGE, "image/jpeg", "jpg", "JPEG")
PNG = MediaFormat(MediaKind.IMAGE, "image/png", "png", "PNG")
WEBP = MediaFormat(MediaKind.IMAGE, "image/webp", "webp", "WEBP")
MP4 = MediaFormat(MediaKind.VIDEO, "video/mp4", "mp4")
WEBM = MediaFormat(MediaKind.VIDEO, "video/webm", "webm")
EXTENSIONS = {fmt.content_type: fmt.extension for fmt in (JPEG, PNG, WEBP, MP4, WEBM)}


def recognise(head: bytes) -> MediaFormat | None:
    """The format of a file starting with `head` (its first SNIFF_BYTES or all of it)."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp" and head[8:12] in MP4_BRANDS:
        return MP4
    # Matroska's EBML magic; WebM is the Matroska profile whose DocType is "webm".
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"\x42\x82\x84webm" in head[:SNIFF_BYTES]:
        return WEBM
    return None
