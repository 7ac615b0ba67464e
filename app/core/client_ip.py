"""The client's address: the one rule that rate limits, IP blocks and audit sources share.

`X-Forwarded-For` is believed only when the direct peer is a trusted proxy; then the client
is the right-most hop that is not itself a trusted proxy (the rule of uvicorn's proxy-headers
middleware and nginx's `real_ip_recursive`). Anything to the left of that hop was written by
the client and proves nothing.
"""

from collections.abc import Iterable
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

Network = IPv4Network | IPv6Network


@lru_cache(maxsize=32)
def trusted_networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ip_network(proxy.strip(), strict=False) for proxy in proxies if proxy.strip())


def _is_trusted(address: str, networks: Iterable[Network]) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)


def client_ip(peer: str | None, forwarded_for: str | None, proxies: tuple[str, ...]) -> str | None:
    """The client address of a request from `peer` carrying `forwarded_for`."""
    networks = trusted_networks(proxies)
    if peer is None or not forwarded_for or not _is_trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, networks):
            return hop if _valid(hop) else peer
    return hops[0] if hops and _valid(hops[0]) else peer


def _valid(address: str) -> bool:
    try:
        ip_address(address)
    except ValueError:
        return False
    return True
