"""Story-level helpers: sign people up, sign them in, wait for the audit trail."""

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

ADMIN_EMAIL = "root-admin@example.com"
ADMIN_PASSWORD = "Sup3r-Secret-Admin!"
PASSWORD = "Corr3ct-Horse-Battery"
T = TypeVar("T")
_counter = itertools.count(1)


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_counter)}-{time.monotonic_ns()}@example.com"


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
        await asyncio.sleep(0.05)


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
