"""Story-level helpers: sign people up, sign them in, wait for the audit trail."""

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from asgi_lifespan import LifespanManager

from app.core.config import Settings
from app.main import create_app

ADMIN_EMAIL = "root-admin@example.com"
ADMIN_PASSWORD = "Sup3r-Secret-Admin!"
PASSWORD = "Corr3ct-Horse-Battery"
T = TypeVar("T")
_counter = itertools.count(1)


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_counter)}-{time.monotonic_ns()}@example.com"


POLL_INTERVAL = 0.05  # between probes of a deadline-bound poll


async def eventually(
    probe: Callable[[], Awaitable[T]], check: Callable[[T], bool], timeout: float = 10.0
) -> T:
    """Poll `probe` until `check` holds or the deadline passes (never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if check(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")
        await asyncio.sleep(POLL_INTERVAL)


@dataclass
class Account:
    id: str
    email: str
    password: str
    role: str
    token: str = ""
    refresh_token: str = ""
    scopes: list[str] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Api:
    """A thin story-telling layer over the HTTP client."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def signup(self, role: str = "customer", **extra: Any) -> Account:
        email = extra.pop("email", None) or unique_email(role)
        body = {"email": email, "password": PASSWORD, "role": role, "name": f"A {role}", **extra}
        response = await self.client.post("/api/auth/signup", json=body)
        assert response.status_code == 201, response.text
        user = response.json()["data"]["user"]
        return Account(id=user["id"], email=email, password=PASSWORD, role=role)

    async def login(self, account: Account) -> Account:
        response = await self.client.post(
            "/api/auth/login", json={"email": account.email, "password": account.password}
        )
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        account.token, account.refresh_token = data["accessToken"], data["refreshToken"]
        return account

    async def customer(self, **extra: Any) -> Account:
        return await self.login(await self.signup("customer", **extra))

    async def dealer(self, **extra: Any) -> Account:
        """A signed-in dealer account, still pending approval."""
        return await self.login(await self.signup("dealer", **extra))

    async def technician(self, **extra: Any) -> Account:
        """A signed-in technician account, still pending approval."""
        return await self.login(await self.signup("technician", **extra))

    async def me(self, account: Account) -> httpx.Response:
        return await self.client.get("/api/users/me", headers=account.headers)

    async def root_admin(self) -> Account:
        response = await self.client.post(
            "/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        return Account(
            id=data["user"]["id"], email=ADMIN_EMAIL, password=ADMIN_PASSWORD, role="admin",
            token=data["accessToken"], refresh_token=data["refreshToken"],
            scopes=data["user"]["scopes"],
        )

    async def admin(self, *scopes: str) -> Account:
        """A new admin with exactly these scopes, created by the bootstrap superadmin."""
        root = await self.root_admin()
        email = unique_email("admin")
        response = await self.client.post(
            "/api/admin/users",
            json={"email": email, "password": PASSWORD, "name": "Admin", "scopes": list(scopes)},
            headers=root.headers,
        )
        assert response.status_code == 201, response.text
        account = Account(
            id=response.json()["data"]["id"], email=email, password=PASSWORD, role="admin",
            scopes=list(scopes),
        )
        return await self.login(account)

    async def set_status(
        self, admin: Account, user_id: str, status: str, reason: str | None = None, **extra: Any
    ) -> httpx.Response:
        body: dict[str, Any] = {"status": status, **extra}
        if reason:
            body["reason"] = reason
        return await self.client.patch(
            f"/api/users/{user_id}/status", json=body, headers=admin.headers
        )

    async def audit_entries(self, admin: Account, **filters: str) -> list[dict[str, Any]]:
        response = await self.client.get(
            "/api/audit/logs", params={"limit": 100, **filters}, headers=admin.headers
        )
        assert response.status_code == 200, response.text
        return response.json()["data"]["items"]

    async def wait_for_audit(
        self, admin: Account, count: int = 1, **filters: str
    ) -> list[dict[str, Any]]:
        """Audit entries matching `filters`, once at least `count` are chained (have a seq)."""

        async def probe() -> list[dict[str, Any]]:
            return await self.audit_entries(admin, **filters)

        entries = await eventually(
            probe, lambda items: sum(1 for e in items if e["seq"] is not None) >= count
        )
        return entries

    async def audited(
        self, admin: Account, action: str, subject_id: str, count: int = 1
    ) -> list[dict[str, Any]]:
        """The chained audit entries of `action` on `subject_id` (waits for the sequencer)."""
        return await self.wait_for_audit(admin, count, action=action, subjectId=subject_id)

    async def chain_report(self, admin: Account) -> dict[str, Any]:
        response = await self.client.get("/api/audit/verify", headers=admin.headers)
        assert response.status_code == 200, response.text
        return response.json()["data"]

    async def sequenced_chain(self, admin: Account) -> dict[str, Any]:
        """The verifier's report once every committed audit entry has been chained."""

        async def probe() -> dict[str, Any]:
            return await self.chain_report(admin)

        return await eventually(probe, lambda report: report["pending"] == 0)


def assert_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response is an error envelope with this status; returns the parsed body."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"success", "message", "data", "traceId"}, body
    assert body["success"] is False and body["message"], body
    assert body["traceId"] == response.headers["x-request-id"], body
    return body


def field_errors(response: httpx.Response) -> set[str]:
    """The `field` of every entry in a 422 envelope's data.errors."""
    body = assert_error(response, 422)
    return {error["field"] for error in body["data"]["errors"]}


@contextlib.asynccontextmanager
async def running_app(config: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """Start an app (with its lifespan) on `config` and yield a client; the database stays."""
    application = create_app(config)
    async with LifespanManager(application, startup_timeout=60, shutdown_timeout=60):
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
