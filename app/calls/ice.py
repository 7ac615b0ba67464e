"""STUN and TURN servers for a call's peers, with TURN credentials in coturn's REST scheme.

coturn (`use-auth-secret`, `static-auth-secret`) accepts username `"{expiry}:{userId}"` with
password base64(HMAC-SHA1(secret, username)) until `expiry` (Unix seconds): the API hands out
time-limited credentials and never shares the secret with clients.
"""

import base64
import hashlib
import hmac
from datetime import timedelta

from app.calls.schemas import IceServer, IceServers
from app.core import clock
from app.core.config import settings
from app.core.permissions import Actor


def turn_credential(secret: str, username: str) -> str:
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def ice_servers(actor: Actor) -> IceServers:
    config = settings().calls
    ttl = config.turn_credential_ttl_seconds
    expires_at = clock.utcnow() + timedelta(seconds=ttl)
    servers: list[IceServer] = []
    if config.stun_urls:
        servers.append(IceServer(urls=list(config.stun_urls)))
    if config.turn_urls:
        username = f"{int(expires_at.timestamp())}:{actor.id}"
        credential = turn_credential(config.turn_shared_secret.get_secret_value(), username)
        servers.append(IceServer(urls=list(config.turn_urls), username=username,
                                 credential=credential))
    return IceServers(ice_servers=servers, ttl_seconds=ttl, expires_at=expires_at)
