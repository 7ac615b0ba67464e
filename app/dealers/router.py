"""HTTP only: parse the request, call the service, return the schema. No queries, no rules."""

from typing import Annotated

from fastapi import APIRouter, Path

from app.auth.dependencies import OptionalActor, ProfileReader, require
from app.core.errors import responses
from app.core.pagination import Pagination
from app.core.permissions import Actor, Permission
from app.core.schemas import Envelope, Page, ok
from app.dealers import service
from app.dealers.models import Dealer, DealerStatus
from app.dealers.schemas import (
    CommissionTierIn,
    DealerCreate,
    DealerPublic,
    DealerRead,
    DealerStatusIn,
)

router = APIRouter(tags=["Dealers"], responses=responses(401, 403))
DealerId = Annotated[str, Path(alias="dealerId", max_length=64)]
DealerManager = require(Permission.DEALERS_MANAGE)


def _read(dealer: Dealer, actor: Actor | None) -> DealerRead:
    return DealerRead.of(dealer, actor)


@router.post("/api/dealers", status_code=201, responses=responses(409, 422))
async def submit_profile(
    body: DealerCreate, actor: require(Permission.DEALER_PROFILE_SUBMIT)
) -> Envelope[DealerRead]:
    """Submit the signed-in dealer account's business profile for admin verification."""
    return ok(_read(await service.submit_profile(actor, body), actor), "Dealer profile submitted")


@router.get("/api/dealers/me", responses=responses(404))
async def my_profile(actor: ProfileReader) -> Envelope[DealerRead]:
    """The signed-in dealer's own profile, with its status and history."""
    return ok(_read(await service.get_own(actor), actor))


@router.get("/api/dealers/{dealerId}", responses=responses(404))
async def get_dealer(dealer_id: DealerId, actor: OptionalActor) -> Envelope[DealerRead | DealerPublic]:
    """An approved dealer's public profile; its owner and admins also see compliance data."""
    dealer = await service.get_visible(actor, dealer_id)
    if service.can_see_private(actor, dealer):
        return ok(_read(dealer, actor))
    return ok(DealerPublic.model_validate(dealer))


@router.patch("/api/dealers/{dealerId}/status", responses=responses(404, 409, 422))
async def change_status(
    dealer_id: DealerId, body: DealerStatusIn, actor: DealerManager
) -> Envelope[DealerRead]:
    """Approve, suspend, block or reinstate a dealer; its account follows in the same step.

    Suspending or blocking hides its products, suspends or blocks its account (its sessions
    end at once), stops its selling (403 `DEALER_NOT_ACTIVE`) and its escrow's auto-release;
    its open orders wait in GET /api/admin/orders?dealerStatus=…. Reinstating restores both."""
    dealer = await service.change_status(actor, dealer_id, body)
    return ok(_read(dealer, actor), f"Dealer is now {dealer.status.value}")


@router.patch("/api/dealers/{dealerId}/commission-tier", responses=responses(404, 422))
async def change_commission_tier(
    dealer_id: DealerId, body: CommissionTierIn, actor: require(Permission.COMMISSION_MANAGE)
) -> Envelope[DealerRead]:
    """Move a dealer to another commission tier."""
    return ok(_read(await service.change_commission_tier(actor, dealer_id, body), actor))


@router.get("/api/admin/dealers", tags=["Admin"])
async def list_dealers(
    actor: require(Permission.USERS_READ), page: Pagination, status: DealerStatus | None = None
) -> Envelope[Page[DealerRead]]:
    """Dealers, newest first; filter by status (e.g. pending for the approval queue)."""
    dealers, next_cursor = await service.list_dealers(actor, status, page)
    return ok(Page[DealerRead](items=[_read(d, actor) for d in dealers], next_cursor=next_cursor))
