"""Media stories: jobs to share files in (a repair inserted directly, an order placed through
the API), files made for real (Pillow images, PyAV videos), uploads and what got stored."""

import hashlib
import io
from dataclasses import dataclass
from typing import Any

import av
import httpx
import numpy as np
from PIL import ExifTags, Image
from pymongo.asynchronous.database import AsyncDatabase

from app.core import clock
from app.repairs.models import IssueType, LatLng, Repair, RepairMode, RepairStatus
from tests.helpers import Account, Api
from tests.orders import factories as orders
from tests.technicians.factories import approved_technician

COLLECTIONS = ("media", "media_blobs", "media.files", "media.chunks")
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00" + bytes(200)
GPS_LATITUDE = (12.0, 58.0, 17.0)


@dataclass
class JobParties:
    job_id: str
    customer: Account  # the repair's customer, the order's buyer
    provider: Account  # the repair's technician, the order's dealer


async def repair_job(api: Api) -> JobParties:
    """An accepted repair of a customer by an approved technician (inserted directly)."""
    technician, profile = await approved_technician(api)
    customer = await api.customer()
    repair = Repair(
        customer_id=customer.id, device_brand="Xiaomi", device_model="Redmi Note 12",
        issue_type=IssueType.HARDWARE, issue_description="Charging port loose",
        mode=RepairMode.OFFLINE, location=LatLng(lat=12.9716, lng=77.5946),
        status=RepairStatus.ACCEPTED, technician_id=profile["id"],
        technician_user_id=technician.id, accepted_at=clock.utcnow(),
    )
    await repair.insert()
    return JobParties(repair.id, customer, technician)


async def order_job(api: Api) -> JobParties:
    """A customer's placed order from an approved dealer."""
    seller = await orders.shop(api)
    product = await orders.part(api, seller)
    buyer = await api.customer()
    order = await orders.placed(api, buyer, (product["id"], 1))
    return JobParties(order["id"], buyer, seller.account)


def png(size: tuple[int, int] = (40, 30), color: tuple[int, int, int] = (10, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    """A 64×32 JPEG whose EXIF says: rotate 90° (orientation 6), camera make, GPS position."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PhoneCam"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: GPS_LATITUDE,
        ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (77.0, 35.0, 40.0),
    }
    out = io.BytesIO()
    Image.new("RGB", (64, 32), (200, 30, 30)).save(out, "JPEG", exif=exif.tobytes(),
                                                   comment=b"shot at home")
    return out.getvalue()


def video(container: str = "mp4", padding: int = 0) -> bytes:
    """A real ten-frame video (H.264 in MP4, or VP8 in WebM), plus `padding` trailing bytes
    (videos are stored as sent, so padding makes a large one cheaply)."""
    codec = "libx264" if container == "mp4" else "libvpx"
    out = io.BytesIO()
    with av.open(out, "w", format=container) as muxer:
        stream = muxer.add_stream(codec, rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 20, dtype=np.uint8),
                                               format="rgb24")
            for packet in stream.encode(frame):
                muxer.mux(packet)
        for packet in stream.encode():
            muxer.mux(packet)
    return out.getvalue() + bytes(i % 251 for i in range(padding))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def upload(api: Api, account: Account, job_id: str, content: bytes,
                 filename: str = "file.bin", content_type: str = "application/octet-stream",
                 **extra: Any) -> httpx.Response:
    return await api.client.post(
        "/api/media", data={"jobId": job_id, **extra},
        files={"file": (filename, content, content_type)}, headers=account.headers,
    )


async def uploaded(api: Api, account: Account, job_id: str, content: bytes,
                   **extra: Any) -> dict[str, Any]:
    response = await upload(api, account, job_id, content, **extra)
    assert response.status_code == 201, response.text
    return response.json()["data"]


async def download(api: Api, account: Account, media_id: str,
                   **headers: str) -> httpx.Response:
    return await api.client.get(f"/api/media/{media_id}",
                                headers={**account.headers, **headers})


async def stored_counts(db: AsyncDatabase) -> dict[str, int]:
    return {name: await db[name].count_documents({}) for name in COLLECTIONS}


NOTHING_STORED = dict.fromkeys(COLLECTIONS, 0)
