"""HTTP validators and byte ranges of a download (RFC 9110 §13-14): one range per request;
a Range header this server does not serve (several ranges, another unit, bad syntax) is
ignored and the whole file is sent, as the RFC allows."""

from app.media.exceptions import UnsatisfiableRange


def etag_of(sha256: str) -> str:
    return f'"{sha256}"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match names this entity tag (weak comparison) or is `*`."""
    if not if_none_match:
        return False
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in tags or any(tag.removeprefix("W/") == etag for tag in tags)


def byte_range(range_header: str | None, if_range: str | None, etag: str,
               size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte to send, or None for the whole file; raises
    UnsatisfiableRange (416) for a well-formed range wholly outside the file."""
    if not range_header or (if_range is not None and if_range.strip() != etag):
        return None
    unit, _, spec = range_header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_text, dash, last_text = spec.strip().partition("-")
    if not dash:
        return None
    first_text, last_text = first_text.strip(), last_text.strip()
    if not (first_text.isdigit() or first_text == "") or not (last_text.isdigit() or last_text == ""):
        return None
    if first_text == "":
        if last_text == "":
            return None
        suffix = int(last_text)
        if suffix == 0:
            raise UnsatisfiableRange(size)
        return max(size - suffix, 0), size - 1
    first = int(first_text)
    if first >= size:
        raise UnsatisfiableRange(size)
    last = int(last_text) if last_text else size - 1
    if last < first:
        return None
    return first, min(last, size - 1)
