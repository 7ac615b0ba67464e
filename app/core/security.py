"""Password hashing (argon2id), access tokens (JWT HS256) bound to a sign-in session,
opaque refresh tokens, and the install id apps send as X-Device-Id."""

import asyncio
import hashlib
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.core.errors import BadRequest

JWT_ALGORITHM = "HS256"

# OWASP's argon2id minimum (19 MiB, 2 iterations, 1 lane): ~17 ms a verify on 2 cores,
# where the library default costs ~90 ms.
_password_hash = PasswordHash(
    (Argon2Hasher(memory_cost=19 * 1024, time_cost=2, parallelism=1),)
)
_DUMMY_HASH = _password_hash.hash("dummy-password-for-constant-time")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_password_hash.hash, password)


async def verify_password(password: str, password_hash: str | None) -> bool:
    """Verify in a worker thread; unknown accounts still cost one verify (no timing oracle)."""
    return await asyncio.to_thread(
        _password_hash.verify, password, password_hash or _DUMMY_HASH
    ) and password_hash is not None


@dataclass(frozen=True)
class AccessClaims:
    sub: str
    role: str
    scopes: list[str]
    jti: str
    exp: datetime
    sid: str  # the sign-in session (refresh-token family) the token belongs to

    @property
    def exp_ts(self) -> float:
        return self.exp.timestamp()


def create_access_token(
    secret: str, user_id: str, role: str, scopes: list[str], ttl_seconds: int, session_id: str
) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": user_id,
        "sid": session_id,
        "role": role,
        "scopes": scopes,
        "iat": now,
        "exp": now + timedelta(seconds=ttl_seconds),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM)


# Access tokens already verified, by (secret, token): a client sends the same token on every
# request until it expires, and PyJWT's decode (base64 checks, HMAC, JSON, claims) is ~0.05-0.1
# ms of CPU each time. Only verified tokens are kept, each until its `exp`, the oldest evicted
# first; the account and its session are still read on every request (the auth dependency).
VERIFIED_TOKENS_KEPT = 4096
_verified: dict[tuple[str, str], AccessClaims] = {}


def decode_access_token(secret: str, token: str) -> AccessClaims | None:
    key = (secret, token)
    claims = _verified.get(key)
    if claims is not None:
        if claims.exp_ts > time.time():
            return claims
        del _verified[key]
        return None
    claims = _decode_access_token(secret, token)
    if claims is not None:
        if len(_verified) >= VERIFIED_TOKENS_KEPT:
            del _verified[next(iter(_verified))]
        _verified[key] = claims
    return claims


def _decode_access_token(secret: str, token: str) -> AccessClaims | None:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            options={"require": ["sub", "sid", "role", "exp", "iat", "jti"]},
        )
    except jwt.PyJWTError:
        return None
    return AccessClaims(
        sub=str(claims["sub"]),
        role=str(claims["role"]),
        scopes=list(claims.get("scopes") or []),
        jti=str(claims["jti"]),
        exp=datetime.fromtimestamp(claims["exp"], UTC),
        sid=str(claims["sid"]),
    )


def new_refresh_token() -> str:
    return secrets.token_urlsafe(48)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


DEVICE_ID_HEADER = "X-Device-Id"
DEVICE_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class MalformedDeviceId(BadRequest):
    """X-Device-Id is present but is not 16-64 URL-safe characters (400)."""


def parse_device_id(value: str | None) -> str | None:
    """The app's install id from X-Device-Id; None when absent, MalformedDeviceId if malformed."""
    if value is None:
        return None
    if not DEVICE_ID_PATTERN.match(value):
        raise MalformedDeviceId(
            f"{DEVICE_ID_HEADER} must be 16-64 characters of A-Z, a-z, 0-9, _ or -"
        )
    return value
