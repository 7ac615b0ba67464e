"""Posting balanced transfers, reading balances, and verifying every invariant."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.core.database import Session
from app.core.errors import Conflict
from app.core.permissions import Actor
from app.payments.ledger import accounts, repository
from app.payments.ledger.models import Entry, LedgerTransaction


@dataclass(frozen=True)
class Transfer:
    """`amount` paise move from `source` to `target`."""

    source: str
    target: str
    amount: int


class InsufficientBalance(Conflict):
    default_message = "The ledger account does not hold enough money for this"


class UnbalancedTransaction(ValueError):
    pass


def _entries(transfers: Sequence[Transfer]) -> list[Entry]:
    net: dict[str, int] = {}
    for transfer in transfers:
        if transfer.amount <= 0 or isinstance(transfer.amount, bool):
            raise UnbalancedTransaction("transfer amounts must be positive integers")
        net[transfer.source] = net.get(transfer.source, 0) - transfer.amount
        net[transfer.target] = net.get(transfer.target, 0) + transfer.amount
    return [Entry(account=name, amount=amount) for name, amount in net.items() if amount]


async def post(
    session: Session,
    *,
    key: str,
    kind: str,
    transfers: Sequence[Transfer],
    actor: Actor,
    payment_id: str | None = None,
    recipient_id: str | None = None,
    memo: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> LedgerTransaction:
    """Post one balanced journal transaction inside the caller's database transaction.

    `key` makes it idempotent: posting the same key twice raises `DuplicateKeyError`,
    which aborts the caller's transaction, so money never moves twice.
    """
    entries = _entries(transfers)
    if not entries:
        raise UnbalancedTransaction("a transaction must move money")
    transaction = LedgerTransaction(
        id=key, kind=kind, entries=entries, payment_id=payment_id, recipient_id=recipient_id,
        actor_id=actor.id, memo=memo, metadata=metadata or {},
    )
    await repository.insert_transaction(session, transaction)
    for entry in entries:
        if accounts.is_constrained(entry.account):
            await _move_cached_balance(session, entry.account, entry.amount)
        elif accounts.is_receivable(entry.account):
            await _move_owed_balance(session, entry.account, entry.amount)
    return transaction


async def _move_cached_balance(session: Session, account: str, amount: int) -> None:
    if amount > 0:
        await repository.credit_cached_balance(session, account, amount)
        return
    if not await repository.debit_cached_balance(session, account, -amount):
        raise InsufficientBalance(
            f"Ledger account {account} holds less than {-amount} paise",
            {"account": account, "needed": -amount},
        )


async def _move_owed_balance(session: Session, account: str, amount: int) -> None:
    """A receivable may go as negative as the recipient's debt, and never above zero."""
    if amount < 0:
        await repository.credit_cached_balance(session, account, amount)
        return
    if not await repository.credit_owed_balance(session, account, amount):
        raise InsufficientBalance(
            f"Ledger account {account} is owed less than {amount} paise",
            {"account": account, "recovering": amount},
        )


async def cached_balance(account: str, session: Session | None = None) -> int:
    """The balance kept with a constrained or receivable account's entries, read in
    `session` (so a transaction that then moves it conflicts with any concurrent mover)."""
    return await repository.cached_balance(account, session)


async def already_posted(key: str) -> LedgerTransaction | None:
    return await repository.get_transaction(key)


async def balance(account: str, session: Session | None = None) -> int:
    """Derived from the entries themselves, never from a cache."""
    return await repository.balance(account, session)


async def balances(account_names: Sequence[str]) -> dict[str, int]:
    found = await repository.sums_by("account", {"account": {"$in": list(account_names)}})
    return {name: found.get(name, 0) for name in account_names}


async def pending_escrow(recipient_id: str) -> int:
    """Money captured for `recipient_id` and still held in escrow (not released or refunded)."""
    return await repository.pending_escrow(recipient_id)


async def released_since(recipient_id: str, since: datetime) -> int:
    """Paise released to the recipient's payable (its share, after commission) since `since`."""
    return await repository.released_since(recipient_id, since)


async def transactions_of_payment(payment_id: str) -> list[dict[str, Any]]:
    """Every journal transaction of a payment, oldest first."""
    return await repository.transactions_of_payment(payment_id)


async def entries_of(account_names: Sequence[str], limit: int = 100) -> list[dict[str, Any]]:
    return await repository.entries_of(account_names, limit)


RECEIVABLE_KINDS = frozenset({"refund", "refund_reversal", "receivable_recovery"})
CHECKS = (
    "transactions_balance", "entries_match_transactions", "constrained_accounts_not_negative",
    "cached_balances_match", "escrow_matches_payments", "refunds_in_flight_match_refunds",
    "receivables_owed_not_negative", "receivable_postings_paired", "releases_paid_to_payee",
)


@dataclass
class LedgerReport:
    valid: bool = True
    checked_transactions: int = 0
    violations: list[dict[str, Any]] = field(default_factory=list)
    checks: tuple[str, ...] = CHECKS
    # Recipient id → paise it owes the platform (refunds after release its payable lacked).
    receivables_owed: dict[str, int] = field(default_factory=dict)

    def fail(self, rule: str, **details: Any) -> None:
        self.valid = False
        self.violations.append({"rule": rule, **details})


def _check_receivable_postings(report: LedgerReport, txn: dict[str, Any]) -> None:
    """A receivable moves only by a refund after release (owed), its reversal, or a recovery
    from the same recipient's payable of exactly the amount recovered."""
    touched = [e for e in txn["entries"] if accounts.is_receivable(e["account"])]
    if not touched:
        return
    recipient = txn.get("recipient_id")
    for entry in touched:
        if txn["kind"] not in RECEIVABLE_KINDS or entry["account"] != accounts.receivable(
            recipient or ""
        ):
            report.fail("receivable_posting_foreign", transactionId=txn["_id"],
                        account=entry["account"], kind=txn["kind"])
    if txn["kind"] == "receivable_recovery":
        net = {e["account"]: e["amount"] for e in txn["entries"]}
        recovered = net.get(accounts.receivable(recipient or ""), 0)
        if len(net) != 2 or recovered <= 0 or net.get(accounts.payable(recipient or "")) != -recovered:
            report.fail("receivable_recovery_unpaired", transactionId=txn["_id"])


def _check_release_payee(report: LedgerReport, txn: dict[str, Any], payees: dict[str, str]) -> None:
    """A release pays only its payment's payee (a dealer's or a technician's payable) and
    the platform: never another recipient's payable."""
    if txn["kind"] != "release" or txn.get("payment_id") not in payees:
        return
    payee = payees[txn["payment_id"]]
    allowed = {accounts.payable(payee), accounts.PLATFORM_REVENUE}
    credited = {e["account"] for e in txn["entries"] if e["amount"] > 0}
    if not credited <= allowed or txn.get("recipient_id") != payee:
        report.fail("release_not_to_payee", transactionId=txn["_id"], payeeId=payee,
                    credited=sorted(credited - allowed))


async def verify(
    escrow_expectations: dict[str, int] | None = None,
    in_flight_expectations: dict[str, int] | None = None,
    payees: dict[str, str] | None = None,
) -> LedgerReport:
    """Check every transaction balances, that its entries match it, that no constrained
    account is negative (derived or cached), that each escrow holds what the payments say it
    should (`escrow_expectations`: payment id → captured − released − refunded from escrow),
    that each payment's refunds in flight hold what its pending refunds add up to
    (`in_flight_expectations`), that no receivable is recovered beyond what is owed, and that
    receivables move only by refunds after release and recoveries from the same payable, and
    (`payees`: payment id → its payee, a dealer or a technician) that each release paid its
    payment's payee."""
    report = LedgerReport()
    entry_sums = await repository.sums_by("transaction_id")
    async for txn in repository.all_transactions():
        report.checked_transactions += 1
        total = sum(entry["amount"] for entry in txn["entries"])
        if total != 0:
            report.fail("transaction_unbalanced", transactionId=txn["_id"], net=total)
        if entry_sums.pop(txn["_id"], None) != total:
            report.fail("entries_mismatch", transactionId=txn["_id"])
        _check_receivable_postings(report, txn)
        _check_release_payee(report, txn, payees or {})
    for orphan in entry_sums:
        report.fail("orphan_entries", transactionId=orphan)
    derived = await repository.sums_by("account")
    for account, amount in derived.items():
        if accounts.is_constrained(account) and amount < 0:
            report.fail("negative_balance", account=account, balance=amount)
        if accounts.is_receivable(account):
            if amount > 0:
                report.fail("receivable_over_recovered", account=account, balance=amount)
            elif amount < 0:
                report.receivables_owed[account.removeprefix(accounts.RECEIVABLE_PREFIX)] = -amount
    async for cached in repository.all_cached_balances():
        account, balance_ = cached["_id"], cached["balance"]
        out_of_range = balance_ > 0 if accounts.is_receivable(account) else balance_ < 0
        if balance_ != derived.get(account, 0) or out_of_range:
            report.fail("cached_balance_mismatch", account=account,
                        cached=balance_, derived=derived.get(account, 0))
    for payment_id, expected in (escrow_expectations or {}).items():
        held = derived.get(accounts.escrow(payment_id), 0)
        if held != expected:
            report.fail("escrow_mismatch", paymentId=payment_id, expected=expected, held=held)
    if in_flight_expectations is not None:
        _check_refunds_in_flight(report, derived, in_flight_expectations)
    return report


def _check_refunds_in_flight(
    report: LedgerReport, derived: dict[str, int], expected: dict[str, int]
) -> None:
    held = {account.removeprefix(accounts.REFUND_IN_FLIGHT_PREFIX): amount
            for account, amount in derived.items()
            if account.startswith(accounts.REFUND_IN_FLIGHT_PREFIX) and amount}
    for payment_id in held.keys() | expected.keys():
        if held.get(payment_id, 0) != expected.get(payment_id, 0):
            report.fail("refund_in_flight_mismatch", paymentId=payment_id,
                        expected=expected.get(payment_id, 0), held=held.get(payment_id, 0))

