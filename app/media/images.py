"""Images re-encoded without their metadata: EXIF (GPS, camera, owner), XMP, comments and
text chunks are dropped; the EXIF orientation is applied to the pixels first, so the picture
still shows the right way up without it. Kept: the ICC colour profile and PNG transparency
(they change how the picture looks, not who or where it is). CPU-bound: run it in a thread.
"""

import io
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from app.media.exceptions import UnsupportedMedia
from app.media.formats import MediaFormat

# Above this many pixels an image is refused before it is decoded: a small file can
# declare a huge canvas (a decompression bomb) and take gigabytes to decode.
MAX_PIXELS = 50_000_000
JPEG_QUALITY = 90
WEBP_QUALITY = 90


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    width: int
    height: int


def strip_metadata(data: bytes, fmt: MediaFormat) -> CleanImage:
    """`data` (recognised as `fmt`) re-encoded in the same format without metadata."""
    try:
        with Image.open(io.BytesIO(data), formats=[fmt.pillow_format or ""]) as source:
            if source.width * source.height > MAX_PIXELS:
                raise UnsupportedMedia(f"The image is larger than {MAX_PIXELS} pixels")
            info = dict(source.info)
            # A lossless WebP (its first chunk VP8L) stays lossless.
            info["lossless"] = fmt.pillow_format == "WEBP" and data[12:16] == b"VP8L"
            out = io.BytesIO()
            if getattr(source, "n_frames", 1) > 1:
                image = source
                _save(source, out, fmt, info, animated=True)
            else:
                source.load()
                image = ImageOps.exif_transpose(source)
                _save(image, out, fmt, info, animated=False)
            return CleanImage(out.getvalue(), image.width, image.height)
    except UnsupportedMedia:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise UnsupportedMedia(f"The file starts like a {fmt.content_type} image but is not "
                               "a readable one") from None


def _save(image: Image.Image, out: io.BytesIO, fmt: MediaFormat, info: dict[str, Any], *,
          animated: bool) -> None:
    # Only what is named here is written: Pillow would otherwise carry some of `info`
    # over (a JPEG's comment, for one).
    image.info = {}
    options: dict[str, Any] = {}
    if info.get("icc_profile"):
        options["icc_profile"] = info["icc_profile"]
    if fmt.pillow_format == "JPEG":
        if image.mode not in ("RGB", "L", "CMYK"):
            image = image.convert("RGB")
        options.update(quality=JPEG_QUALITY, optimize=True)
    elif fmt.pillow_format == "PNG":
        if "transparency" in info:
            options["transparency"] = info["transparency"]
        options["optimize"] = False
    elif fmt.pillow_format == "WEBP":
        options.update(quality=WEBP_QUALITY, lossless=bool(info.get("lossless")))
    if animated:
        options.update(save_all=True, loop=info.get("loop", 0))
        if "duration" in info:
            options["duration"] = info["duration"]
    image.save(out, fmt.pillow_format, **options)
