"""The client's address comes from X-Forwarded-For only through a trusted proxy, as the
right-most hop that is not itself a trusted proxy; rate limits and audit both use it."""

import httpx
import pytest

from app.audit import service as audit_service
from app.core.client_ip import client_ip
from app.core.config import RateLimitSettings, Settings
from tests.helpers import eventually
from tests.live import running_live

PROXIES = ("127.0.0.1", "10.0.0.0/8")


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.9", "6.6.6.6", "203.0.113.9"),  # an untrusted peer cannot choose its IP
        ("127.0.0.1", "6.6.6.6", "6.6.6.6"),
        ("127.0.0.1", "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # left of it is client-written
        ("127.0.0.1", "198.51.100.7, 10.1.2.3", "198.51.100.7"),  # skip trusted hops
        ("127.0.0.1", "10.1.2.3, 10.9.9.9", "10.1.2.3"),
        ("127.0.0.1", "not-an-ip", "127.0.0.1"),
        ("127.0.0.1", None, "127.0.0.1"),
    ],
)
def test_client_ip_follows_the_trusted_proxy_rule(peer, forwarded, expected):
    assert client_ip(peer, forwarded, PROXIES) == expected


def test_no_proxy_is_trusted_by_default():
    assert Settings().trusted_proxies == []
    assert client_ip("127.0.0.1", "6.6.6.6", ()) == "127.0.0.1"


def test_trusted_proxies_are_read_as_a_comma_separated_list(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")
    assert Settings().trusted_proxies == ["10.0.0.0/8", "127.0.0.1"]


async def _failed_login_sources(mongo_db, email: str) -> list[str | None]:
    entries = await mongo_db["audit_entries"].find(
        {"action": "auth.login_failed", "subject_id": audit_service.email_fingerprint(email)}
    ).to_list()
    return [entry.get("source", {}).get("ip") for entry in entries]


async def _login(http: httpx.AsyncClient, email: str, forwarded: str) -> httpx.Response:
    return await http.post(
        "/api/auth/login", json={"email": email, "password": "Wrong-Passw0rd-123"},
        headers={"X-Forwarded-For": forwarded},
    )


async def test_a_spoofed_forwarded_for_from_an_untrusted_peer_changes_nothing(config, mongo_db):
    config = config.model_copy(update={"rate_limits": RateLimitSettings(public=3)})
    async with running_live(config) as server, httpx.AsyncClient(base_url=server.base_url) as http:
        answers = [
            (await _login(http, "nobody@example.com", f"6.6.6.{n}")).status_code for n in range(5)
        ]
        # Five different spoofed addresses are still one caller: the limit of 3 holds.
        assert answers[:3] == [401, 401, 401] and answers[3:] == [429, 429]
        sources = await eventually(
            lambda: _failed_login_sources(mongo_db, "nobody@example.com"), lambda s: len(s) == 3
        )
        assert set(sources) == {"127.0.0.1"}


async def test_behind_a_trusted_proxy_the_forwarded_client_is_audited_and_limited(config, mongo_db):
    config = config.model_copy(update={
        "trusted_proxies": ["127.0.0.1"], "rate_limits": RateLimitSettings(public=2),
    })
    async with running_live(config) as server, httpx.AsyncClient(base_url=server.base_url) as http:
        first = [(await _login(http, "someone@example.com", "spoof, 198.51.100.7")).status_code
                 for _ in range(3)]
        other = await _login(http, "someone@example.com", "198.51.100.8")
        assert first == [401, 401, 429]
        assert other.status_code == 401  # another client behind the proxy has its own limit
        sources = await eventually(
            lambda: _failed_login_sources(mongo_db, "someone@example.com"), lambda s: len(s) == 3
        )
        assert sorted(sources) == ["198.51.100.7", "198.51.100.7", "198.51.100.8"]
