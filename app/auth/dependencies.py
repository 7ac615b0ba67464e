"""Who is calling: bearer-token authentication and permission checks as typed dependencies."""

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth.exceptions import SessionEnded
from app.core.config import settings
from app.core.errors import Forbidden, Unauthenticated
from app.core.permissions import REFUSED_ACCOUNT_STATUSES, AccountStatus, Actor, Permission
from app.core.security import DEVICE_ID_HEADER, decode_access_token, parse_device_id
from app.users import service as users_service

bearer = HTTPBearer(auto_error=False, description="Paste the accessToken from /api/auth/login")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def _actor_from(credentials: HTTPAuthorizationCredentials | None) -> Actor | None:
    if credentials is None:
        return None
    claims = decode_access_token(
        settings().auth.jwt_secret.get_secret_value(), credentials.credentials
    )
    if claims is None:
        raise Unauthenticated("Invalid or expired access token")
    # The account is read on every request so that a suspension, or the end of the token's
    # sign-in session, takes effect at once, even while the access token is still valid.
    user = await users_service.get_account(claims.sub)
    if user is None or user.status in REFUSED_ACCOUNT_STATUSES:
        raise Unauthenticated("This account is not active")
    if claims.sid not in user.session_ids:
        raise SessionEnded
    return users_service.actor_of(user, claims.sid)


async def current_actor(request: Request, credentials: Credentials) -> Actor:
    actor = await _actor_from(credentials)
    if actor is None:
        raise Unauthenticated
    request.state.actor = actor
    return actor


async def optional_actor(request: Request, credentials: Credentials) -> Actor | None:
    """The caller if signed in, None for anonymous callers (public routes)."""
    actor = await _actor_from(credentials)
    request.state.actor = actor
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]
OptionalActor = Annotated[Actor | None, Depends(optional_actor)]


def require(*permissions: Permission) -> Any:
    """A dependency type: the signed-in actor, refused with 403 unless it holds one of
    `permissions` (the service decides what each one allows)."""

    async def check(actor: CurrentActor) -> Actor:
        if not any(actor.can(permission) for permission in permissions):
            if actor.status is AccountStatus.PENDING:
                raise Forbidden("Your account is awaiting admin approval")
            names = " or ".join(permission.value for permission in permissions)
            raise Forbidden(f"Your role does not allow this ({names})")
        return actor

    check.permissions = permissions  # type: ignore[attr-defined]
    return Annotated[Actor, Depends(check)]


async def device_id(request: Request) -> str | None:
    """The app's install id from X-Device-Id (16-64 of A-Za-z0-9_-); 400 if malformed."""
    return parse_device_id(request.headers.get(DEVICE_ID_HEADER))


DeviceId = Annotated[str | None, Depends(device_id)]
