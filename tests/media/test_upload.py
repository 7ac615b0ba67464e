"""Uploads: what a file is comes from its bytes, images lose their metadata, only a job's
participants may share in it, and the same bytes are stored once."""

import asyncio
import io

from bson import ObjectId
from PIL import ExifTags, Image
from pymongo.asynchronous.database import AsyncDatabase

from app.media import service as media_service
from tests.helpers import Api, assert_error
from tests.media.factories import (
    ELF,
    NOTHING_STORED,
    download,
    jpeg_with_gps,
    order_job,
    png,
    repair_job,
    sha256,
    stored_counts,
    upload,
    uploaded,
    video,
)


async def test_png_named_mp4_is_stored_as_png(api: Api, mongo_db: AsyncDatabase) -> None:
    job = await order_job(api)
    picture = png()

    response = await upload(api, job.customer, job.job_id, picture, filename="clip.mp4",
                            content_type="video/mp4")

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["success"] is True and body["message"] == "Media uploaded"
    data = body["data"]
    assert data["id"].startswith("med_") and data["jobId"] == job.job_id
    assert (data["kind"], data["contentType"]) == ("image", "image/png")
    assert (data["width"], data["height"]) == (40, 30)
    assert data["uploaderId"] == job.customer.id and data["url"] == f"/api/media/{data['id']}"
    record = await mongo_db["media"].find_one({"_id": data["id"]})
    assert record["content_type"] == "image/png" and record["job_id"] == job.job_id
    stored = await mongo_db["media.files"].find_one({"_id": ObjectId(record["gridfs_id"])})
    assert stored["metadata"]["contentType"] == "image/png"
    assert stored["metadata"]["sha256"] == record["sha256"] == data["sha256"]
    audit = await mongo_db["audit_entries"].find_one({"action": "media.uploaded",
                                                      "subject_id": data["id"]})
    assert audit["actor_id"] == job.customer.id and audit["metadata"]["jobId"] == job.job_id

    served = await download(api, job.provider, data["id"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(served.content)).format == "PNG"
    assert sha256(served.content) == data["sha256"]


async def test_executable_named_jpg_is_refused(api: Api, mongo_db: AsyncDatabase) -> None:
    job = await order_job(api)

    response = await upload(api, job.customer, job.job_id, ELF, filename="holiday.jpg",
                            content_type="image/jpeg")

    body = assert_error(response, 415)
    assert "JPEG" in body["message"] and body["data"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert "image/jpeg" in body["data"]["accepted"]
    assert await stored_counts(mongo_db) == NOTHING_STORED


async def test_other_iso_media_and_broken_images_are_refused(api: Api,
                                                             mongo_db: AsyncDatabase) -> None:
    job = await order_job(api)
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(100)
    broken_jpeg = b"\xff\xd8\xff\xe0" + bytes(500)

    for content in (heic, broken_jpeg, b""):
        response = await upload(api, job.customer, job.job_id, content, filename="a.jpg")
        assert_error(response, 415)
    assert await stored_counts(mongo_db) == NOTHING_STORED


async def test_gps_exif_is_removed_and_orientation_applied(api: Api,
                                                           mongo_db: AsyncDatabase) -> None:
    job = await repair_job(api)
    photo = jpeg_with_gps()
    source = Image.open(io.BytesIO(photo))
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the fixture really carries GPS

    data = await uploaded(api, job.provider, job.job_id, photo, filename="IMG_0001.jpg")

    assert data["contentType"] == "image/jpeg" and data["sha256"] != sha256(photo)
    assert (data["width"], data["height"]) == (32, 64)  # turned as orientation 6 said
    served = await download(api, job.customer, data["id"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    clean = Image.open(io.BytesIO(served.content))
    assert clean.size == (32, 64)
    assert dict(clean.getexif()) == {} and not clean.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert "exif" not in clean.info and "comment" not in clean.info and "xmp" not in clean.info
    assert b"Exif\x00\x00" not in served.content and b"PhoneCam" not in served.content
    assert b"shot at home" not in served.content
    chunks = [chunk["data"] async for chunk in mongo_db["media.chunks"].find({})]
    assert b"PhoneCam" not in b"".join(chunks)  # not even at rest


async def test_non_participant_is_refused_upload_and_download(api: Api,
                                                              mongo_db: AsyncDatabase) -> None:
    job = await repair_job(api)
    stranger = await api.customer()
    other_technician = await api.technician()

    for outsider in (stranger, other_technician):
        response = await upload(api, outsider, job.job_id, png())
        assert assert_error(response, 404)["message"] == "Job not found"
    assert await stored_counts(mongo_db) == NOTHING_STORED
    response = await upload(api, stranger, "rep_000000000000000000000000", png())
    assert_error(response, 404)

    data = await uploaded(api, job.customer, job.job_id, png())
    for outsider in (stranger, other_technician):
        response = await download(api, outsider, data["id"])
        assert assert_error(response, 404)["message"] == "Media not found"
        assert "etag" not in response.headers
    assert_error(await download(api, stranger, "med_000000000000000000000000"), 404)
    admin = await api.admin("ops")
    assert (await download(api, admin, data["id"])).status_code == 200  # admins take part
    unauthenticated = await api.client.get(f"/api/media/{data['id']}")
    assert_error(unauthenticated, 401)


async def test_same_content_is_stored_once(api: Api, mongo_db: AsyncDatabase) -> None:
    job = await repair_job(api)
    other_job = await order_job(api)
    clip = video("mp4", padding=300_000)  # two GridFS chunks

    first = await uploaded(api, job.customer, job.job_id, clip, filename="a.mp4")
    again = await upload(api, job.customer, job.job_id, clip, filename="b.mp4")
    by_other_party = await uploaded(api, job.provider, job.job_id, clip)
    elsewhere = await uploaded(api, other_job.customer, other_job.job_id, clip)

    assert again.status_code == 200, again.text
    assert again.json()["message"] == "Already uploaded"
    assert again.json()["data"]["id"] == first["id"]
    ids = {first["id"], by_other_party["id"], elsewhere["id"]}
    assert len(ids) == 3
    assert {first["sha256"], by_other_party["sha256"], elsewhere["sha256"]} == {sha256(clip)}
    counts = await stored_counts(mongo_db)
    assert counts == {"media": 3, "media_blobs": 1, "media.files": 1, "media.chunks": 2}
    records = await mongo_db["media"].find({}).to_list()
    assert len({record["gridfs_id"] for record in records}) == 1

    image = png(color=(1, 2, 3))
    one = await uploaded(api, job.customer, job.job_id, image)
    two = await uploaded(api, job.provider, job.job_id, image)
    assert one["sha256"] == two["sha256"] and one["id"] != two["id"]
    assert (await stored_counts(mongo_db))["media.files"] == 2


async def test_videos_are_stored_as_sent(api: Api, mongo_db: AsyncDatabase) -> None:
    job = await order_job(api)

    for container, content_type in (("mp4", "video/mp4"), ("webm", "video/webm")):
        clip = video(container)
        data = await uploaded(api, job.provider, job.job_id, clip, filename="clip.jpg",
                              content_type="image/jpeg")
        assert (data["kind"], data["contentType"]) == ("video", content_type)
        assert data["sha256"] == sha256(clip) and data["size"] == len(clip)
        assert data["width"] is None
        served = await download(api, job.customer, data["id"])
        assert served.content == clip and served.headers["content-type"] == content_type
    assert (await stored_counts(mongo_db))["media"] == 2


async def test_malformed_uploads(api: Api, mongo_db: AsyncDatabase) -> None:
    job = await order_job(api)
    headers = job.customer.headers

    missing_job = await api.client.post("/api/media", files={"file": ("a.png", png())},
                                        headers=headers)
    assert assert_error(missing_job, 422)["data"]["errors"][0]["field"] == "body.jobId"
    missing_file = await api.client.post("/api/media", data={"jobId": job.job_id},
                                         files={"other": ("a", b"x")}, headers=headers)
    assert assert_error(missing_file, 422)["data"]["errors"][0]["field"] == "body.other"
    as_json = await api.client.post("/api/media", json={"jobId": job.job_id}, headers=headers)
    assert_error(as_json, 400)
    assert await stored_counts(mongo_db) == NOTHING_STORED


async def test_media_belongs_to_its_job_only(api: Api) -> None:
    job = await repair_job(api)
    other = await order_job(api)
    mine = await uploaded(api, job.customer, job.job_id, png())
    theirs = await uploaded(api, other.customer, other.job_id, png(color=(9, 9, 9)))

    assert await media_service.media_belongs_to(job.job_id, [mine["id"]]) is True
    assert await media_service.media_belongs_to(job.job_id, [mine["id"], mine["id"]]) is True
    assert await media_service.media_belongs_to(job.job_id, [mine["id"], theirs["id"]]) is False
    assert await media_service.media_belongs_to(job.job_id, ["med_missing"]) is False
    assert await media_service.media_belongs_to(job.job_id, []) is True


async def test_body_arriving_in_one_piece_keeps_each_parts_name(api: Api) -> None:
    """Both parts' headers parsed from one read: each part keeps its own name."""
    job = await order_job(api)
    boundary = "one-piece"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="jobId"\r\n\r\n'
            f'{job.job_id}\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="x.png"\r\n\r\n').encode() + png() + f"\r\n--{boundary}--\r\n".encode()

    response = await api.client.post(
        "/api/media", content=body,
        headers={**job.customer.headers,
                 "Content-Type": f"multipart/form-data; boundary={boundary}"})

    assert response.status_code == 201, response.text
    assert response.json()["data"]["jobId"] == job.job_id


async def test_concurrent_uploads_of_new_content_store_it_once(api: Api,
                                                               mongo_db: AsyncDatabase) -> None:
    job = await repair_job(api)
    clip = video("webm", padding=400_000)
    image = png(color=(4, 5, 6))

    responses = await asyncio.gather(
        upload(api, job.customer, job.job_id, clip), upload(api, job.provider, job.job_id, clip),
        upload(api, job.customer, job.job_id, image), upload(api, job.customer, job.job_id, image),
    )

    assert [r.status_code for r in responses[:2]] == [201, 201]
    assert sorted(r.status_code for r in responses[2:]) == [200, 201]  # a retry, not a copy
    assert responses[2].json()["data"]["id"] == responses[3].json()["data"]["id"]
    counts = await stored_counts(mongo_db)
    assert (counts["media"], counts["media_blobs"], counts["media.files"]) == (3, 2, 2)
    files = await mongo_db["media.files"].find({}).to_list()
    blobs = await mongo_db["media_blobs"].find({}).to_list()
    assert {str(f["_id"]) for f in files} == {b["gridfs_id"] for b in blobs}
    assert {f["metadata"]["sha256"] for f in files} == {b["_id"] for b in blobs}
    assert await mongo_db["media.chunks"].count_documents({}) == sum(
        -(-f["length"] // f["chunkSize"]) for f in files)  # no stray chunks


async def test_image_declaring_a_huge_canvas_is_refused_before_decoding(
    api: Api, mongo_db: AsyncDatabase,
) -> None:
    job = await order_job(api)
    out = io.BytesIO()
    Image.new("1", (8000, 8000)).save(out, "PNG")  # 64 megapixels in a few kilobytes
    assert len(out.getvalue()) < 100_000

    response = await upload(api, job.customer, job.job_id, out.getvalue())

    assert "pixels" in assert_error(response, 415)["message"]
    assert await stored_counts(mongo_db) == NOTHING_STORED


async def test_file_sent_before_job_id_is_dropped_when_refused(api: Api,
                                                               mongo_db: AsyncDatabase) -> None:
    job = await repair_job(api)
    stranger = await api.customer()
    boundary = "file-first"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="v.webm"'
            f'\r\n\r\n').encode() + video("webm", padding=600_000) + (
            f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="jobId"\r\n\r\n'
            f'{job.job_id}\r\n--{boundary}--\r\n').encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}

    refused = await api.client.post("/api/media", content=body,
                                    headers={**stranger.headers, **headers})
    assert_error(refused, 404)
    assert await stored_counts(mongo_db) == NOTHING_STORED  # the staged chunks went too

    accepted = await api.client.post("/api/media", content=body,
                                     headers={**job.customer.headers, **headers})
    assert accepted.status_code == 201, accepted.text
    assert (await stored_counts(mongo_db))["media.chunks"] == 3
