"""HTTP only: parse the request, call the service, return the schema. No queries, no rules."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.auth.dependencies import CurrentActor, ProfileReader, require
from app.core.errors import responses
from app.core.pagination import Pagination
from app.core.permissions import Permission
from app.core.schemas import Envelope, Page, ok
from app.core.validators import IsoDatetime
from app.technicians import availability, location, nearby, onboarding, service
from app.technicians.models import Skill, TechnicianStatus
from app.technicians.schemas import (
    AvailabilityIn,
    FixIn,
    FixRead,
    LocationItem,
    NearbyPage,
    TechnicianCommissionTierIn,
    TechnicianCreate,
    TechnicianPublic,
    TechnicianRead,
    TechnicianStatusIn,
    TechnicianUpdate,
)

router = APIRouter(tags=["Technicians"], responses=responses(401, 403))
TechId = Annotated[str, Path(alias="techId", max_length=64)]
TechnicianManager = require(Permission.TECHNICIANS_MANAGE)
OnDuty = require(Permission.LOCATION_UPDATE)
MAX_RADIUS_KM = 50
MAX_NEARBY = 50


@router.post("/api/technicians", status_code=201, responses=responses(409, 422))
async def submit_profile(
    body: TechnicianCreate, actor: require(Permission.TECHNICIAN_PROFILE_SUBMIT)
) -> Envelope[TechnicianRead]:
    """Submit the signed-in technician account's profile for admin approval (once); it shows
    the account's name, so an account without one (optional at signup) sets it first with
    PATCH /api/users/me (422 until then)."""
    technician = await onboarding.submit_profile(actor, body)
    return ok(await service.shown_private(technician, actor), "Technician profile submitted")


@router.get("/api/technicians/me", responses=responses(404))
async def my_profile(actor: ProfileReader) -> Envelope[TechnicianRead]:
    """The signed-in technician's own profile, with its status, history and last fix."""
    return ok(await service.shown_private(await service.get_own(actor), actor))


@router.get("/api/technicians/nearby", responses=responses(422))
async def nearby_technicians(
    actor: require(Permission.TECHNICIANS_SEARCH),
    lat: Annotated[float, Query(ge=-90, le=90)],
    lng: Annotated[float, Query(ge=-180, le=180)],
    radius_km: Annotated[float, Query(alias="radiusKm", gt=0, le=MAX_RADIUS_KM)] = 5,
    skill: Skill | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_NEARBY)] = 20,
) -> Envelope[NearbyPage]:
    """Approved, available technicians with a fresh, accurate fix within the radius, nearest
    first (geodesic distance; ties by higher Bayesian rating, then id). Customers see each
    position rounded to 3 decimals (about 100 m); admins see it exact."""
    items = await nearby.nearby(actor, lat, lng, radius_km, skill, limit)
    return ok(NearbyPage(items=items))


@router.get("/api/technicians/{techId}", responses=responses(404))
async def get_technician(
    tech_id: TechId, actor: CurrentActor
) -> Envelope[TechnicianRead | TechnicianPublic]:
    """An approved technician's public profile; its owner and admins see the whole profile."""
    technician = await service.get_visible(actor, tech_id)
    return ok(await service.shown(technician, actor))


@router.patch("/api/technicians/{techId}", responses=responses(404, 409, 422))
async def update_profile(
    tech_id: TechId, body: TechnicianUpdate,
    actor: require(Permission.TECHNICIAN_PROFILE_SUBMIT, Permission.TECHNICIANS_MANAGE),
) -> Envelope[TechnicianRead]:
    """Edit bio, specialities, certifications, service pincodes (the owner, pending or
    approved); `skills` only admins with ops or compliance (the owner gets 403)."""
    technician = await onboarding.update_profile(actor, tech_id, body)
    return ok(await service.shown_private(technician, actor), "Technician profile updated")


@router.patch("/api/technicians/{techId}/commission-tier", responses=responses(404, 422))
async def change_commission_tier(
    tech_id: TechId, body: TechnicianCommissionTierIn,
    actor: require(Permission.COMMISSION_MANAGE),
) -> Envelope[TechnicianRead]:
    """Move a technician to another technician commission tier (what its repairs pay)."""
    technician = await onboarding.change_commission_tier(actor, tech_id, body)
    return ok(service.read_model(technician, actor), "Commission tier changed")


@router.patch("/api/technicians/{techId}/status", responses=responses(404, 409, 422))
async def change_status(
    tech_id: TechId, body: TechnicianStatusIn, actor: TechnicianManager
) -> Envelope[TechnicianRead]:
    """Approve, reject, suspend, block or reinstate a technician; its account follows.

    Approving activates the account. Suspending or blocking makes the technician unavailable
    at once (out of search and matching) and suspends or blocks its account (its sessions
    end); reinstating restores the account, and the technician goes available again itself."""
    technician = await onboarding.change_status(actor, tech_id, body)
    return ok(await service.shown_private(technician, actor),
              f"Technician is now {technician.status.value}")


@router.post("/api/technicians/{techId}/location", status_code=201,
             responses=responses(404, 409, 422, 429))
async def send_location(tech_id: TechId, body: FixIn, actor: OnDuty) -> Envelope[FixRead]:
    """Send a location fix (the technician itself, once approved).

    Refused with 422 `LOCATION_IMPLAUSIBLE` and `data.reasons`: FUTURE_FIX (over 30 s
    ahead), STALE_FIX (over 2 min old), OUT_OF_ORDER, and the spoofing codes MOCK_LOCATION,
    IMPOSSIBLE_SPEED (above LOCATION_MAX_SPEED_KMH from the last fix), FROZEN_COORDINATES
    (30 identical fixes claiming speed). Every third spoofing flag in 24 hours makes the
    technician unavailable and alerts the admins. A fix worse than 100 m is kept, but keeps
    the technician out of search until an accurate one follows."""
    fix = await location.record_fix(actor, tech_id, body)
    return ok(FixRead.model_validate(fix), "Location recorded")


@router.get("/api/technicians/{techId}/locations", responses=responses(404))
async def location_history(
    tech_id: TechId, actor: CurrentActor, page: Pagination,
    since: Annotated[IsoDatetime | None, Query(alias="from")] = None,
    until: Annotated[IsoDatetime | None, Query(alias="to")] = None,
) -> Envelope[Page[LocationItem]]:
    """Accepted fixes of the last 7 days, newest first, `from`/`to` on recordedAt (the
    technician itself and admins)."""
    records, next_cursor = await location.history(actor, tech_id, since, until, page)
    return ok(Page[LocationItem](items=[LocationItem.model_validate(r) for r in records],
                                 next_cursor=next_cursor))


@router.patch("/api/technicians/{techId}/availability", responses=responses(404, 409, 422))
async def set_availability(
    tech_id: TechId, body: AvailabilityIn, actor: OnDuty
) -> Envelope[TechnicianRead]:
    """Go available or unavailable (the technician itself, approved). Going available needs
    an accurate fix younger than LOCATION_FRESH_SECONDS (422 `LOCATION_REQUIRED`); once that
    fix ages out, the technician drops out of search by itself."""
    technician = await availability.set_availability(actor, tech_id, body.available)
    return ok(await service.shown_private(technician, actor),
              "Available" if technician.available else "Unavailable")


@router.get("/api/admin/technicians", tags=["Admin"])
async def list_technicians(
    actor: require(Permission.USERS_READ), page: Pagination,
    status: TechnicianStatus | None = None, skill: Skill | None = None,
) -> Envelope[Page[TechnicianRead]]:
    """Technicians, newest first; filter by status (pending: the approval queue) and skill."""
    technicians, next_cursor = await service.list_technicians(actor, status, skill, page)
    return ok(Page[TechnicianRead](items=await service.shown_list(technicians, actor),
                                   next_cursor=next_cursor))
