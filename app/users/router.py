from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.auth.dependencies import CurrentAccount, CurrentActor, require
from app.core.errors import responses
from app.core.pagination import Pagination
from app.core.permissions import AccountStatus, Permission, Role
from app.core.schemas import Envelope, Page, ok
from app.core.validators import Reason
from app.users import service, signins
from app.users.schemas import (
    AdminCreateIn,
    BusinessVerificationIn,
    PasswordChanged,
    PasswordChangeIn,
    ProfileUpdate,
    SessionRead,
    StatusChangeIn,
    UserRead,
)

router = APIRouter(tags=["Users"], responses=responses(401, 403))
UserId = Annotated[str, Path(alias="userId", max_length=64)]
SessionId = Annotated[str, Path(alias="sessionId", max_length=64)]
UserManager = require(Permission.USERS_MANAGE)


@router.get("/api/users/me")
async def me(account: CurrentAccount) -> Envelope[UserRead]:
    """The signed-in account's own profile."""
    return ok(UserRead.model_validate(account))


@router.patch("/api/users/me", responses=responses(409, 422))
async def update_me(body: ProfileUpdate, actor: CurrentActor) -> Envelope[UserRead]:
    """Set or change your own name and phone (optional at signup); a technician's new name
    shows on its technician profile too."""
    return ok(UserRead.model_validate(await service.update_profile(actor, body)), "Profile updated")


@router.post("/api/users/me/password", responses=responses(422))
async def change_password(body: PasswordChangeIn, actor: CurrentActor) -> Envelope[PasswordChanged]:
    """Change your password (the new one passes the signup policy; a wrong current password is
    422). Every other session of the account ends; this one stays signed in."""
    ended = await signins.change_password(actor, body.current_password, body.new_password)
    return ok(PasswordChanged(ended_sessions=ended), "Password changed")


@router.get("/api/users/me/sessions")
async def my_sessions(actor: CurrentActor) -> Envelope[Page[SessionRead]]:
    """Your live sign-in sessions, newest first (`current` marks this request's)."""
    items = [
        SessionRead(
            id=s.id, device_id=s.device_id, ip=s.ip, user_agent=s.user_agent,
            created_at=s.created_at, last_used_at=s.last_used_at, current=s.id == actor.session_id,
        )
        for s in await signins.list_own(actor)
    ]
    return ok(Page[SessionRead](items=items, next_cursor=None))


@router.delete("/api/users/me/sessions/{sessionId}", responses=responses(404))
async def end_my_session(session_id: SessionId, actor: CurrentActor) -> Envelope[None]:
    """End one of your sessions (signs that device out at once; 404 if it is not yours)."""
    await signins.end_own(actor, session_id)
    return ok(None, "Session ended")


@router.delete(
    "/api/admin/users/{userId}/sessions/{sessionId}", tags=["Admin"], responses=responses(404)
)
async def end_user_session(
    user_id: UserId, session_id: SessionId, actor: UserManager,
    reason: Annotated[Reason | None, Query()] = None,
) -> Envelope[None]:
    """End one sign-in session of any account (audited, with an optional reason)."""
    await signins.end_for_user(actor, user_id, session_id, reason)
    return ok(None, "Session ended")


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
