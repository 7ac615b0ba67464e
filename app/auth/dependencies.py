"""Who is calling: bearer-token authentication and permission checks as typed dependencies."""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth.exceptions import AccountSuspended, SessionEnded
from app.core.config import settings
from app.core.errors import Forbidden, Unauthenticated
from app.core.permissions import SIGN_IN_REFUSED_STATUSES, AccountStatus, Actor, Permission
from app.core.security import DEVICE_ID_HEADER, decode_access_token, parse_device_id
from app.users import service as users_service
from app.users.models import User

bearer = HTTPBearer(auto_error=False, description="Paste the accessToken from /api/auth/login")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


@dataclass(frozen=True)
class SignedIn:
    """The caller: its actor and its account as read for this request."""

    actor: Actor
    account: User


async def _signed_in(credentials: HTTPAuthorizationCredentials | None) -> SignedIn | None:
    if credentials is None:
        return None
    claims = decode_access_token(
        settings().auth.jwt_secret.get_secret_value(), credentials.credentials
    )
    if claims is None:
        raise Unauthenticated("Invalid or expired access token")
    # The account is read on every request so that a suspension, or the end of the token's
    # sign-in session, takes effect at once, even while the access token is still valid. It
    # is the request's only read of the caller: the account carries its status, profile ids
    # and live session ids, and routes about the account itself reuse it (CurrentAccount).
    user = await users_service.get_account(claims.sub)
    # A suspension ended the account's sessions; a suspended account that signs in again
    # gets an actor whose permissions are limited (Actor.can) and is refused elsewhere below.
    if user is None or user.status in SIGN_IN_REFUSED_STATUSES:
        raise Unauthenticated("This account is not active")
    if claims.sid not in user.session_ids:
        raise SessionEnded
    return SignedIn(users_service.actor_of(user, claims.sid), user)


async def signed_in_actor(request: Request, credentials: Credentials) -> Actor:
    """The caller, suspended or not: only `require` builds on it, so what a suspended
    account reaches is what its permissions allow."""
    signed_in = await _signed_in(credentials)
    if signed_in is None:
        raise Unauthenticated
    request.state.actor, request.state.account = signed_in.actor, signed_in.account
    return signed_in.actor


def _refuse_suspended(actor: Actor | None) -> None:
    if actor is not None and actor.status is AccountStatus.SUSPENDED:
        raise AccountSuspended


async def current_actor(actor: Annotated[Actor, Depends(signed_in_actor)]) -> Actor:
    """The caller; a suspended account is refused (403) by every route needing no permission."""
    _refuse_suspended(actor)
    return actor


async def optional_actor(request: Request, credentials: Credentials) -> Actor | None:
    """The caller if signed in, None for anonymous callers (public routes)."""
    signed_in = await _signed_in(credentials)
    actor = signed_in.actor if signed_in else None
    _refuse_suspended(actor)
    request.state.actor = actor
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]
OptionalActor = Annotated[Actor | None, Depends(optional_actor)]


def require(*permissions: Permission) -> Any:
    """A dependency type: the signed-in actor, refused with 403 unless it holds one of
    `permissions` (the service decides what each one allows)."""

    async def check(actor: Annotated[Actor, Depends(signed_in_actor)]) -> Actor:
        if not any(actor.can(permission) for permission in permissions):
            if actor.status is AccountStatus.SUSPENDED and not actor.permissions.isdisjoint(
                permissions
            ):
                raise AccountSuspended
            if actor.status is AccountStatus.PENDING:
                raise Forbidden("Your account is awaiting admin approval")
            names = " or ".join(permission.value for permission in permissions)
            raise Forbidden(f"Your role does not allow this ({names})")
        return actor

    check.permissions = permissions  # type: ignore[attr-defined]
    return Annotated[Actor, Depends(check)]


# Routes about the caller's own account: a pending or suspended account reaches them too.
ProfileReader = require(Permission.PROFILE_READ)
NotificationReader = require(Permission.NOTIFICATIONS_READ)


async def current_account(request: Request, actor: ProfileReader) -> User:
    """The signed-in account as the auth check read it (routes about the account itself)."""
    account: User = request.state.account
    return account


CurrentAccount = Annotated[User, Depends(current_account)]


async def device_id(request: Request) -> str | None:
    """The app's install id from X-Device-Id (16-64 of A-Za-z0-9_-); 400 if malformed."""
    return parse_device_id(request.headers.get(DEVICE_ID_HEADER))


DeviceId = Annotated[str | None, Depends(device_id)]
