"""The payout provider: an interface, and the sandbox that implements it here.

Production would implement `PayoutProvider` over the RazorpayX Payouts API (`POST /v1/payouts`
with the `X-Payout-Idempotency` header, from a RazorpayX current account to a fund account).
That API needs a live RazorpayX account and is out of reach in this project, so only the
sandbox exists: it records each transfer in MongoDB keyed by the idempotency key, exactly as
RazorpayX dedupes on that header, and decides the outcome deterministically.
"""

import hashlib
import logging
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from app.payouts import repository
from app.payouts.exceptions import ProviderRequestMismatch
from app.payouts.models import SandboxPayoutTransfer, mask_account_number

log = logging.getLogger(__name__)


class ProviderTransferStatus(StrEnum):
    PROCESSED = "processed"
    FAILED = "failed"


@dataclass(frozen=True)
class PayoutDestination:
    """Where the money goes; `account_number` is kept out of reprs (and so out of logs)."""

    holder_name: str
    account_number: str = field(repr=False)
    ifsc: str


@dataclass(frozen=True)
class ProviderTransfer:
    id: str
    status: ProviderTransferStatus
    failure_reason: str | None = None


class PayoutProvider(Protocol):
    async def transfer(
        self, idempotency_key: str, account: PayoutDestination, amount: int, reference: str
    ) -> ProviderTransfer:
        """Send `amount` paise to `account` once per `idempotency_key`.

        The same key again returns the first transfer and moves no money. Raises
        `ProviderError` when the outcome is unknown; asking again with the key is then safe.
        """
        ...


# Test bank accounts of the sandbox, as payment sandboxes publish test card numbers: any
# account number ending in 0000 is rejected by the "beneficiary bank"; every other succeeds.
SANDBOX_FAILING_SUFFIX = "0000"
SANDBOX_FAILURE_REASON = "beneficiary bank rejected"


class SandboxPayoutProvider:
    """The sandbox payout provider (the embedded default and the tests' provider)."""

    async def transfer(
        self, idempotency_key: str, account: PayoutDestination, amount: int, reference: str
    ) -> ProviderTransfer:
        failed = account.account_number.endswith(SANDBOX_FAILING_SUFFIX)
        record = SandboxPayoutTransfer(
            id=idempotency_key,
            reference=reference,
            amount=amount,
            account_number_masked=mask_account_number(account.account_number),
            ifsc=account.ifsc,
            destination_digest=_digest(account),
            status=(ProviderTransferStatus.FAILED if failed else ProviderTransferStatus.PROCESSED),
            failure_reason=SANDBOX_FAILURE_REASON if failed else None,
        )
        stored, new = await repository.record_sandbox_transfer(record)
        if not new:
            if stored["amount"] != amount or stored["destination_digest"] != _digest(account):
                raise ProviderRequestMismatch(
                    f"transfer {idempotency_key} was first made for another amount or account"
                )
            return _answer(stored)
        log.info("sandbox payout transfer", extra={"reference": reference, "amount": amount,
                                                   "status": record.status})
        return _answer(stored)


def _digest(account: PayoutDestination) -> str:
    return hashlib.sha256(f"{account.account_number}|{account.ifsc}".encode()).hexdigest()


def _answer(stored: dict) -> ProviderTransfer:  # type: ignore[type-arg]
    return ProviderTransfer(
        id=stored["transfer_id"],
        status=ProviderTransferStatus(stored["status"]),
        failure_reason=stored.get("failure_reason"),
    )


_provider: PayoutProvider | None = None


def get_provider() -> PayoutProvider:
    """The provider payouts are sent through (the sandbox unless one was installed)."""
    global _provider
    if _provider is None:
        _provider = SandboxPayoutProvider()
    return _provider


def use_provider(provider: PayoutProvider | None) -> None:
    """Install another provider (a real one, or a test double); None restores the default."""
    global _provider
    _provider = provider
