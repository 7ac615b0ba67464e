"""Downloads: byte ranges (so videos seek), entity tags and conditional requests, streamed
from GridFS chunk by chunk."""

from pymongo.asynchronous.database import AsyncDatabase

from tests.commands import CommandCounter
from tests.helpers import Api, assert_error
from tests.media.factories import download, order_job, repair_job, uploaded, video

CHUNK = 255 * 1024  # GridFS's default chunk size: ranges below cross chunk boundaries


async def _clip(api: Api) -> tuple[object, dict, bytes]:
    job = await repair_job(api)
    clip = video("webm", padding=3 * CHUNK)
    data = await uploaded(api, job.customer, job.job_id, clip)
    return job, data, clip


async def test_whole_file_with_validators(api: Api, mongo_db: AsyncDatabase) -> None:
    job, data, clip = await _clip(api)

    response = await download(api, job.provider, data["id"])

    assert response.status_code == 200 and response.content == clip
    assert response.headers["content-type"] == "video/webm"
    assert response.headers["content-length"] == str(len(clip))
    assert response.headers["etag"] == f'"{data["sha256"]}"'
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"] == f'inline; filename="{data["id"]}.webm"'
    assert "content-range" not in response.headers
    assert (await mongo_db["media.chunks"].count_documents({})) == 4


async def test_range_requests(api: Api) -> None:
    job, data, clip = await _clip(api)
    size = len(clip)
    cases = {
        "bytes=0-99": (0, 99),
        f"bytes={CHUNK - 10}-{2 * CHUNK + 9}": (CHUNK - 10, 2 * CHUNK + 9),  # middle, 3 chunks
        "bytes=-100": (size - 100, size - 1),  # suffix
        f"bytes={size - 5}-": (size - 5, size - 1),  # open-ended
        f"bytes=10-{size + 1000}": (10, size - 1),  # clamped to the end
    }

    for header, (first, last) in cases.items():
        response = await download(api, job.customer, data["id"], Range=header)
        assert response.status_code == 206, (header, response.text)
        assert response.content == clip[first:last + 1], header
        assert response.headers["content-range"] == f"bytes {first}-{last}/{size}"
        assert response.headers["content-length"] == str(last - first + 1)
        assert response.headers["content-type"] == "video/webm"
        assert response.headers["etag"] == f'"{data["sha256"]}"'


async def test_unsatisfiable_range_is_416(api: Api) -> None:
    job, data, clip = await _clip(api)
    size = len(clip)

    for header in (f"bytes={size}-", f"bytes={size + 10}-{size + 20}", "bytes=-0"):
        response = await download(api, job.customer, data["id"], Range=header)
        assert response.status_code == 416, (header, response.status_code)
        body = assert_error(response, 416)
        assert response.headers["content-range"] == f"bytes */{size}"
        assert body["data"] == {"size": size}


async def test_ranges_this_server_does_not_serve_get_the_whole_file(api: Api) -> None:
    job, data, clip = await _clip(api)

    for header in ("bytes=0-1,5-6", "items=0-1", "bytes=abc", "bytes=9-3"):
        response = await download(api, job.customer, data["id"], Range=header)
        assert response.status_code == 200 and response.content == clip, header
    stale = await download(api, job.customer, data["id"], Range="bytes=0-9",
                           **{"If-Range": '"not-the-etag"'})
    assert stale.status_code == 200 and stale.content == clip
    fresh = await download(api, job.customer, data["id"], Range="bytes=0-9",
                           **{"If-Range": f'"{data["sha256"]}"'})
    assert fresh.status_code == 206 and fresh.content == clip[:10]


async def test_if_none_match_is_304(api: Api) -> None:
    job = await order_job(api)
    clip = video("mp4")
    data = await uploaded(api, job.customer, job.job_id, clip)
    etag = f'"{data["sha256"]}"'

    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = await download(api, job.provider, data["id"], **{"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b"" and response.headers["etag"] == etag
    changed = await download(api, job.provider, data["id"], **{"If-None-Match": '"other"'})
    assert changed.status_code == 200 and changed.content == clip


async def test_a_range_reads_only_the_chunks_it_covers(commands: CommandCounter,
                                                       api: Api) -> None:
    """One 255 KiB chunk in memory at a time, and only those the range needs."""
    job, data, clip = await _clip(api)  # 4 chunks
    size = len(clip)

    def chunk_reads(response: object) -> int:
        return sum(1 for c in commands.of(response) if str(c) == "find media.chunks")

    whole = await download(api, job.customer, data["id"])
    tail = await download(api, job.customer, data["id"], Range="bytes=-100")
    middle = await download(api, job.customer, data["id"],
                            Range=f"bytes={CHUNK - 10}-{CHUNK + 10}")
    cached = await download(api, job.customer, data["id"],
                            **{"If-None-Match": f'"{data["sha256"]}"'})

    assert whole.status_code == 200 and len(whole.content) == size
    assert (tail.status_code, middle.status_code, cached.status_code) == (206, 206, 304)
    assert [chunk_reads(r) for r in (whole, tail, middle, cached)] == [4, 1, 2, 0]
