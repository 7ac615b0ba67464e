from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.auth.dependencies import CurrentActor, require
from app.core.errors import responses
from app.core.pagination import Pagination
from app.core.permissions import AccountStatus, Permission, Role
from app.core.schemas import Envelope, Page, ok
from app.users import service
from app.users.schemas import AdminCreateIn, BusinessVerificationIn, StatusChangeIn, UserRead

router = APIRouter(tags=["Users"], responses=responses(401, 403))
UserId = Annotated[str, Path(alias="userId", max_length=64)]
UserManager = require(Permission.USERS_MANAGE)


@router.get("/api/users/me")
async def me(actor: CurrentActor) -> Envelope[UserRead]:
    """The signed-in account's own profile."""
    return ok(UserRead.model_validate(await service.get_visible(actor, actor.id)))


@router.patch("/api/users/{userId}/status", responses=responses(404, 409, 422))
async def change_status(
    user_id: UserId, body: StatusChangeIn, actor: UserManager
) -> Envelope[UserRead]:
    """Approve (active), suspend or block an account; suspension ends its sessions at once."""
    user = await service.change_status(actor, user_id, body)
    return ok(UserRead.model_validate(user), f"Account is now {user.status}")


@router.patch("/api/users/{userId}/business-verification", responses=responses(404, 409, 422))
async def review_business(
    user_id: UserId, body: BusinessVerificationIn, actor: require(Permission.BUSINESS_VERIFY)
) -> Envelope[UserRead]:
    """Verify or reject a customer's application to buy as a business (B2B)."""
    user = await service.review_business(actor, user_id, body)
    return ok(UserRead.model_validate(user))


@router.get("/api/admin/users", tags=["Admin"])
async def list_users(
    actor: require(Permission.USERS_READ),
    page: Pagination,
    role: Role | None = None,
    status: AccountStatus | None = None,
    pending_approval: Annotated[bool | None, Query(alias="pendingApproval")] = None,
) -> Envelope[Page[UserRead]]:
    """Accounts, newest first; filter by role, status, or awaiting an approval."""
    users, next_cursor = await service.list_users(actor, role, status, pending_approval, page)
    items = [UserRead.model_validate(user) for user in users]
    return ok(Page[UserRead](items=items, next_cursor=next_cursor))


@router.post("/api/admin/users", status_code=201, tags=["Admin"], responses=responses(409, 422))
async def create_admin(
    body: AdminCreateIn, actor: require(Permission.ADMINS_CREATE)
) -> Envelope[UserRead]:
    """Create another admin with the given scopes (superadmin only)."""
    return ok(UserRead.model_validate(await service.create_admin(actor, body)), "Admin created")
