"""The payout provider: what payouts need of it, RazorpayX's client, and the one in use.

Production and the sandbox run the same code, `RazorpayXProvider` (RazorpayX's Payouts REST
API over HTTP); the sandbox is only another base URL (this app's /sandbox/razorpay mount).
A payout is created once per `X-Payout-Idempotency` key and settles later: RazorpayX answers
`queued`/`pending`/`processing`, then a `payout.processed`, `payout.reversed` or
`payout.failed` webhook (or a fetch by the reconciler) tells the outcome.
"""

from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from app.core.config import RAZORPAYX_API, Settings, settings
from app.payments.gateway.factory import sandbox_url
from app.payouts.exceptions import ProviderError, ProviderRefused

# The provider's statuses that settle a payout: money delivered, or money back with us.
PAID_STATUSES = frozenset({"processed"})
RETURNED_STATUSES = frozenset({"reversed", "failed", "cancelled", "rejected"})


@dataclass(frozen=True)
class PayoutDestination:
    """Where the money goes; `account_number` is kept out of reprs (and so out of logs)."""

    account_id: str
    holder_name: str
    account_number: str = field(repr=False)
    ifsc: str


@dataclass(frozen=True)
class RegisteredDestination:
    contact_id: str
    fund_account_id: str


@dataclass(frozen=True)
class ProviderPayout:
    """A payout as the provider reports it."""

    id: str
    status: str
    amount: int
    reference_id: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)
    failure_reason: str | None = None

    @property
    def paid(self) -> bool:
        return self.status in PAID_STATUSES

    @property
    def returned(self) -> bool:
        return self.status in RETURNED_STATUSES

    @property
    def attempt(self) -> int | None:
        value = self.notes.get("attempt")
        return int(value) if isinstance(value, str | int) and str(value).isdigit() else None


def payout_from_entity(entity: dict[str, Any]) -> ProviderPayout:
    """A RazorpayX payout entity (an API answer, or a webhook's `payload.payout.entity`)."""
    details = entity.get("status_details") if isinstance(entity.get("status_details"), dict) else {}
    notes = entity.get("notes") if isinstance(entity.get("notes"), dict) else {}
    return ProviderPayout(
        id=str(entity["id"]),
        status=str(entity.get("status", "")),
        amount=int(entity.get("amount", 0)),
        reference_id=entity.get("reference_id"),
        notes=notes,
        failure_reason=details.get("description") or entity.get("failure_reason"),
    )


class PayoutProvider(Protocol):
    async def register_destination(self, destination: PayoutDestination) -> RegisteredDestination:
        """Create (or find) the contact and bank-account fund account payouts are sent to."""
        ...

    async def create_payout(
        self, idempotency_key: str, fund_account_id: str, amount: int, reference: str,
        notes: dict[str, str],
    ) -> ProviderPayout:
        """Send `amount` paise once per `idempotency_key`: the same key again returns the first
        payout (in its current status) and moves no money. Raises `ProviderError` when the
        outcome is unknown (asking again with the key is then safe), `ProviderRefused` when
        the provider made no payout."""
        ...

    async def fetch_payout(self, provider_payout_id: str) -> ProviderPayout:
        """The payout's current status at the provider."""
        ...


IDEMPOTENCY_HEADER = "X-Payout-Idempotency"
PAYOUT_NARRATION = "Marketplace payout"


class RazorpayXProvider:
    """RazorpayX's Payouts REST API: basic auth with the Razorpay key id and secret, payouts
    drawn from the business account `account_number`."""

    def __init__(
        self, base_url: str, key_id: str, key_secret: str, *, account_number: str,
        currency: str = "INR", mode: str = "IMPS", timeout: float = 15.0,
    ) -> None:
        self.base_url = base_url
        self._auth = (key_id, key_secret)
        self.account_number = account_number
        self.currency = currency
        self.mode = mode
        self.timeout = timeout

    async def register_destination(self, destination: PayoutDestination) -> RegisteredDestination:
        # RazorpayX answers an identical contact or fund account with the existing one, so a
        # registration cut short is safe to repeat.
        contact = await self._call("POST", "/v1/contacts", {
            "name": destination.holder_name, "type": "vendor",
            "reference_id": destination.account_id,
            "notes": {"payoutAccountId": destination.account_id},
        })
        fund_account = await self._call("POST", "/v1/fund_accounts", {
            "contact_id": contact["id"], "account_type": "bank_account",
            "bank_account": {"name": destination.holder_name, "ifsc": destination.ifsc,
                             "account_number": destination.account_number},
        })
        return RegisteredDestination(str(contact["id"]), str(fund_account["id"]))

    async def create_payout(
        self, idempotency_key: str, fund_account_id: str, amount: int, reference: str,
        notes: dict[str, str],
    ) -> ProviderPayout:
        body = {
            "account_number": self.account_number, "fund_account_id": fund_account_id,
            "amount": amount, "currency": self.currency, "mode": self.mode, "purpose": "payout",
            "queue_if_low_balance": True, "reference_id": reference,
            "narration": PAYOUT_NARRATION, "notes": notes,
        }
        entity = await self._call("POST", "/v1/payouts", body,
                                  headers={IDEMPOTENCY_HEADER: idempotency_key})
        return payout_from_entity(entity)

    async def fetch_payout(self, provider_payout_id: str) -> ProviderPayout:
        return payout_from_entity(await self._call("GET", f"/v1/payouts/{provider_payout_id}"))

    async def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(base_url=self.base_url, auth=self._auth,
                                         timeout=self.timeout) as http:
                response = await http.request(method, path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ProviderError(f"RazorpayX did not answer {method} {path}: "
                                f"{type(exc).__name__}") from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if 200 <= response.status_code < 300 and isinstance(answer, dict) and answer.get("id"):
            return answer
        error = answer.get("error") if isinstance(answer, dict) else None
        error = error if isinstance(error, dict) else {}
        description = str(error.get("description") or f"HTTP {response.status_code}")
        # A 400 is a refusal: no payout was made, except when the key was first used for
        # another request (then one exists, and its outcome is not known here).
        if response.status_code == 400 and error.get("field") != IDEMPOTENCY_HEADER:
            raise ProviderRefused(description)
        raise ProviderError(f"RazorpayX answered {method} {path} with "
                            f"{response.status_code}: {description}")


def payout_base_url(config: Settings) -> str:
    """RAZORPAYX_BASE_URL; unset: the sandbox this app serves, or RazorpayX's API."""
    payouts = config.payouts
    if payouts.razorpayx_base_url:
        return payouts.razorpayx_base_url.rstrip("/")
    return sandbox_url(config) if payouts.uses_sandbox else RAZORPAYX_API


def provider_for(config: Settings) -> PayoutProvider:
    return RazorpayXProvider(
        payout_base_url(config),
        config.payments.razorpay_key_id,
        config.payments.razorpay_key_secret.get_secret_value(),
        account_number=config.payouts.razorpayx_account_number,
        currency=config.payments.currency,
        mode=config.payouts.mode,
        timeout=config.payouts.timeout_seconds,
    )


_installed: PayoutProvider | None = None


def get_provider() -> PayoutProvider:
    """The provider payouts are sent through: RazorpayX at the configured base URL."""
    return _installed or provider_for(settings())


def use_provider(provider: PayoutProvider | None) -> None:
    """Install another provider (a test double around the real one); None restores it."""
    global _installed
    _installed = provider
