from fastapi import APIRouter

from app.auth import service
from app.auth.dependencies import DeviceId
from app.auth.schemas import LoginIn, RefreshIn, SignupOut, TokenPair
from app.core.config import settings
from app.core.errors import responses
from app.core.schemas import Envelope, ok
from app.users import service as users_service
from app.users.models import User
from app.users.schemas import SignupIn, UserRead

router = APIRouter(prefix="/api/auth", tags=["Authentication"])


def _token_pair(user: User, access: str, refresh: str) -> TokenPair:
    return TokenPair(
        access_token=access,
        refresh_token=refresh,
        expires_in=settings().auth.access_token_ttl_seconds,
        user=UserRead.model_validate(user),
    )


@router.post("/signup", status_code=201, responses=responses(409, 422, 429))
async def signup(body: SignupIn) -> Envelope[SignupOut]:
    """Create a customer, dealer or technician account (dealers/technicians await approval)."""
    user = await users_service.signup(body)
    return ok(SignupOut(user=UserRead.model_validate(user)), "Signup successful")


@router.post("/login", responses=responses(400, 401, 403, 422, 429))
async def login(body: LoginIn, device: DeviceId) -> Envelope[TokenPair]:
    """Exchange email and password for an access token and a refresh token (a new sign-in
    session, recorded with the X-Device-Id install id when the app sends one)."""
    user, access, refresh = await service.login(body.email, body.password, device)
    return ok(_token_pair(user, access, refresh), "Login successful")


@router.post("/refresh", responses=responses(401, 422, 429))
async def refresh(body: RefreshIn) -> Envelope[TokenPair]:
    """Rotate a refresh token into a new token pair (reuse revokes the whole sign-in)."""
    user, access, new_refresh = await service.refresh(body.refresh_token)
    return ok(_token_pair(user, access, new_refresh), "Token refreshed")


@router.post("/logout", responses=responses(422, 429))
async def logout(body: RefreshIn) -> Envelope[None]:
    """End the sign-in session this refresh token belongs to: its refresh tokens are revoked
    and its access tokens refused from the next request."""
    await service.logout(body.refresh_token)
    return ok(None, "Logged out")
