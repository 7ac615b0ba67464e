"""The people of the stories and the one server they share, spoken to over HTTP and Socket.IO
only: no app internals, no database access."""

import asyncio
import contextlib
import io
import itertools
import math
import random
import string
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import socketio
from PIL import Image

from tests.helpers import ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, eventually, unique_email
from tests.processes import ApiProcess

SOCKET_TIMEOUT = 10
_addresses = itertools.count(1)
_keys = itertools.count(1)
_rng = random.Random()
# Places already given to a story: every new one is far from all of them, so a story's match
# never depends on another story's technicians (the matching radius is 10 km).
_places: list[tuple[float, float]] = []
MIN_SEPARATION_KM = 60.0


def idem() -> dict[str, str]:
    return {"Idempotency-Key": f"story-{uuid.uuid4().hex[:12]}-{next(_keys)}"}


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    dlat = (a[0] - b[0]) * 111.2
    dlng = (a[1] - b[1]) * 111.2 * math.cos(math.radians((a[0] + b[0]) / 2))
    return math.hypot(dlat, dlng)


def fresh_place() -> tuple[float, float]:
    """Random coordinates in India, at least MIN_SEPARATION_KM from every earlier story's."""
    while True:
        spot = (round(_rng.uniform(9.0, 28.0), 6), round(_rng.uniform(72.0, 86.0), 6))
        if all(_km(spot, other) >= MIN_SEPARATION_KM for other in _places):
            _places.append(spot)
            return spot


def north_of(spot: tuple[float, float], km: float) -> tuple[float, float]:
    return (spot[0] + km / 111.2, spot[1])


def unique_gstin() -> str:
    letters = "".join(_rng.choices(string.ascii_uppercase, k=5))
    return f"27{letters}{_rng.randrange(10_000):04d}A1Z5"


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


@dataclass
class Person:
    """A signed-in account, behind its own client address."""

    id: str
    email: str
    role: str
    ip: str
    token: str = ""
    scopes: list[str] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "X-Forwarded-For": self.ip}


def _address() -> str:
    n = next(_addresses)
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255 or 1}"


def data_of(response: httpx.Response, status: int = 200) -> Any:
    """The `data` of a success envelope answered with `status`."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body = response.json()
    assert set(body) == {"success", "message", "data", "traceId"}, body
    assert body["success"] is True and body["traceId"] == response.headers["x-request-id"], body
    return body["data"]


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """The body of an error envelope answered with `status`."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body = response.json()
    assert set(body) == {"success", "message", "data", "traceId"}, body
    assert body["success"] is False and body["message"], body
    return body


class World:
    """The shared server, and the people the stories invent on it."""

    def __init__(self, http: httpx.AsyncClient, server: ApiProcess) -> None:
        self.http = http
        self.server = server
        self._root: Person | None = None

    # --- people -------------------------------------------------------------------------------

    async def login(self, person: Person, password: str = PASSWORD) -> Person:
        response = await self.http.post(
            "/api/auth/login", json={"email": person.email, "password": password},
            headers={"X-Forwarded-For": person.ip},
        )
        data = data_of(response)
        person.token, person.scopes = data["accessToken"], data["user"].get("scopes") or []
        assert data["user"]["id"] == person.id
        return person

    async def person(self, role: str, name: str) -> Person:
        """A new account of `role` (unique email, its own address), signed in."""
        email, ip = unique_email(role), _address()
        response = await self.http.post(
            "/api/auth/signup",
            json={"email": email, "password": PASSWORD, "role": role, "name": name},
            headers={"X-Forwarded-For": ip},
        )
        user = data_of(response, 201)["user"]
        assert user["email"] == email and user["role"] == role
        return await self.login(Person(user["id"], email, role, ip))

    async def root(self) -> Person:
        """The bootstrap superadmin (BOOTSTRAP_ADMIN_EMAIL/PASSWORD), signed in once."""
        if self._root is None:
            response = await self.http.post(
                "/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
                headers={"X-Forwarded-For": "10.255.255.1"},
            )
            data = data_of(response)
            self._root = Person(data["user"]["id"], ADMIN_EMAIL, "admin", "10.255.255.1",
                                data["accessToken"], data["user"]["scopes"])
        return self._root

    async def admin(self, *scopes: str) -> Person:
        """A new admin with exactly these scopes, created by the superadmin."""
        root = await self.root()
        email, ip = unique_email("admin"), _address()
        response = await self.http.post(
            "/api/admin/users", headers=root.headers,
            json={"email": email, "password": PASSWORD, "name": "Story admin",
                  "scopes": list(scopes)},
        )
        created = data_of(response, 201)
        assert created["role"] == "admin" and sorted(created["scopes"]) == sorted(scopes)
        return await self.login(Person(created["id"], email, "admin", ip))

    # --- talking to the API -------------------------------------------------------------------

    async def get(self, who: Person, path: str, expect: int = 200, **params: Any) -> Any:
        return data_of(await self.http.get(path, params=params, headers=who.headers), expect)

    async def post(self, who: Person, path: str, body: Any = None, expect: int = 201,
                   **headers: str) -> Any:
        response = await self.http.post(path, json=body, headers={**who.headers, **headers})
        return data_of(response, expect)

    async def patch(self, who: Person, path: str, body: Any = None, expect: int = 200,
                    **headers: str) -> Any:
        response = await self.http.patch(path, json=body, headers={**who.headers, **headers})
        return data_of(response, expect)

    async def refused(self, who: Person, method: str, path: str, status: int,
                      body: Any = None, **headers: str) -> dict[str, Any]:
        """The error envelope of a call that must be refused with `status`."""
        response = await self.http.request(method, path, json=body,
                                           headers={**who.headers, **headers})
        return error_of(response, status)

    # --- money ----------------------------------------------------------------------------

    async def checkout(self, gateway_order_id: str, payer: Person) -> dict[str, str]:
        """What Razorpay Checkout does in the app: pay in the sandbox (which also sends the
        signed `payment.captured` webhook to the platform)."""
        response = await self.http.post(
            f"/sandbox/razorpay/checkout/{gateway_order_id}", json={"outcome": "success"},
            headers={"X-Forwarded-For": payer.ip},
        )
        assert response.status_code == 200, response.text
        signed = response.json()
        assert set(signed) >= {"razorpay_order_id", "razorpay_payment_id", "razorpay_signature"}
        assert signed["razorpay_order_id"] == gateway_order_id
        return signed

    async def pay(self, payer: Person, body: dict[str, str], amount: int) -> dict[str, Any]:
        """POST /api/payments, sandbox checkout, POST /api/payments/verify: the captured
        payment, its escrow held."""
        started = await self.post(payer, "/api/payments", body, **idem())
        assert started["status"] == "created" and started["amount"] == amount, started
        assert started["gatewayOrderId"] and started["payerId"] == payer.id
        signed = await self.checkout(started["gatewayOrderId"], payer)
        verified = await self.post(payer, "/api/payments/verify", signed, expect=200)
        assert verified["id"] == started["id"] and verified["status"] == "captured", verified
        assert verified["escrowStatus"] == "held" and verified["amount"] == amount
        return verified

    async def ledger_is_valid(self, finance: Person) -> dict[str, Any]:
        report = await self.get(finance, "/api/admin/ledger/verify")
        assert report["valid"] is True, report
        return report

    async def audit_is_valid(self, auditor: Person) -> dict[str, Any]:
        """The audit chain verifies once every committed entry has been chained."""

        async def probe() -> dict[str, Any]:
            return await self.get(auditor, "/api/audit/verify")

        report = await eventually(probe, lambda r: r["pending"] == 0, timeout=20)
        assert report["valid"] is True and report["problems"] == [], report
        assert report["checkedEntries"] > 0
        return report

    async def payout_account(self, owner: Person, finance: Person, holder: str) -> dict[str, Any]:
        """The owner registers a bank account; finance verifies it."""
        number = f"9{_rng.randrange(10**10):010d}{_rng.randrange(1, 9999):04d}"[:14]
        if number.endswith("0000"):  # the sandbox's always-failing accounts
            number = number[:-1] + "1"
        account = await self.post(owner, "/api/payouts/accounts",
                                  {"holderName": holder, "accountNumber": number,
                                   "ifsc": "HDFC0001234"})
        assert account["accountNumberMasked"].endswith(number[-4:])  # masked at rest and shown
        assert number not in account["accountNumberMasked"] and account["status"] == "pending_verification"
        verified = await self.patch(finance, f"/api/payouts/accounts/{account['id']}/verification",
                                    {"action": "verify"})
        assert verified["id"] == account["id"] and verified["status"] == "verified", verified
        assert verified["recipientId"] == account["recipientId"]
        return verified

    async def paid_out(self, finance: Person, recipient_id: str, amount: int) -> dict[str, Any]:
        """Finance pays the recipient's whole payable balance; the sandbox settles it."""
        payout = await self.post(finance, "/api/payouts", {"recipientId": recipient_id}, **idem())
        assert payout["recipientId"] == recipient_id and payout["amount"] == amount, payout

        async def probe() -> dict[str, Any]:
            return await self.get(finance, f"/api/payouts/{payout['id']}")

        settled = await eventually(probe, lambda p: p["status"] in ("paid", "failed"))
        assert settled["status"] == "paid", settled
        return settled

    # --- real time --------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def socket(self, who: Person) -> AsyncIterator["Socket"]:
        sock = Socket(who)
        try:
            await sock.sio.connect(self.server.base_url, auth={"token": who.token},
                                   headers={"X-Forwarded-For": who.ip},
                                   transports=["websocket"], wait_timeout=SOCKET_TIMEOUT)
            yield sock
        finally:
            await sock.sio.disconnect()


class Socket:
    """One person's Socket.IO connection, keeping the chat messages it is sent."""

    def __init__(self, who: Person) -> None:
        self.who = who
        self.sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
        self.messages: asyncio.Queue[Any] = asyncio.Queue()
        self.sio.on("chat:message", self.messages.put)
        self.calls: asyncio.Queue[Any] = asyncio.Queue()
        self.sio.on("call:incoming", self.calls.put)

    async def ok(self, event: str, data: dict[str, Any]) -> Any:
        ack = await self.sio.call(event, data, timeout=SOCKET_TIMEOUT)
        assert isinstance(ack, dict) and ack.get("ok") is True, ack
        return ack["data"]

    async def refused(self, event: str, data: dict[str, Any]) -> str:
        ack = await self.sio.call(event, data, timeout=SOCKET_TIMEOUT)
        assert isinstance(ack, dict) and ack.get("ok") is False, ack
        return ack["error"]["code"]

    async def incoming_call(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.calls.get(), SOCKET_TIMEOUT)

    async def message(self, predicate: Any = None) -> dict[str, Any]:
        """The next chat message pushed to this socket (that satisfies `predicate`)."""
        while True:
            message = await asyncio.wait_for(self.messages.get(), SOCKET_TIMEOUT)
            if predicate is None or predicate(message):
                return message


def now_iso() -> str:
    return datetime.now(UTC).isoformat()
