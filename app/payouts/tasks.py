"""Background work of payouts: the daily batch and the reconciler of unsettled payouts.

Both run as lease-guarded `PeriodicJob`s (see app.main) and are safe to run twice: the batch
keys each recipient's payout `batch:{recipientId}:{UTC date}`, and resuming a payout asks the
provider again under the same key.
"""

import json
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

from app.core import clock
from app.core.config import settings
from app.core.errors import AppError
from app.core.permissions import SYSTEM_ACTOR
from app.payments.ledger import accounts as ledger_accounts
from app.payments.ledger import service as ledger
from app.payouts import payees, repository, service
from app.payouts.models import PayoutSource
from app.payouts.schemas import PayoutCreate

log = logging.getLogger(__name__)
UNSETTLED_AFTER = timedelta(minutes=10)


@dataclass
class BatchReport:
    day: date
    created: list[str] = field(default_factory=list)
    replayed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)


def batch_key(recipient_id: str, day: date) -> str:
    return f"batch:{recipient_id}:{day.isoformat()}"


async def run_payout_batch(day: date | None = None, minimum: int | None = None) -> BatchReport:
    """Pay out every payee (a dealer still selling, an approved technician) with a verified
    account and payable ≥ the minimum, at most once per recipient per UTC day."""
    day = day or clock.utcnow().date()
    minimum = settings().payouts.batch_minimum if minimum is None else minimum
    report = BatchReport(day=day)
    for recipient_id in sorted(await repository.verified_recipients()):
        # An automatic payout never goes to a suspended or blocked payee; finance still can.
        if not await payees.paid_automatically(recipient_id):
            report.skipped.append(recipient_id)
            continue
        if await ledger.balance(ledger_accounts.payable(recipient_id)) < max(minimum, 1):
            report.skipped.append(recipient_id)
            continue
        try:
            response = await service.create_payout(
                SYSTEM_ACTOR, PayoutCreate(recipient_id=recipient_id),
                batch_key(recipient_id, day), source=PayoutSource.BATCH,
            )
        except AppError as refusal:
            report.refused[recipient_id] = refusal.message
            continue
        answer = json.loads(response.body)
        if response.status_code >= 400:  # a refusal earlier today, replayed
            report.refused[recipient_id] = answer["message"]
            continue
        replayed = response.headers.get("Idempotent-Replayed") == "true"
        (report.replayed if replayed else report.created).append(answer["data"]["id"])
    log.info("payout batch", extra={"day": day.isoformat(), "created": len(report.created),
                                    "replayed": len(report.replayed),
                                    "refused": len(report.refused)})
    return report


async def payout_batch_job() -> bool:
    await run_payout_batch()
    return False


async def resume_unsettled(older_than: timedelta, limit: int = 100) -> int:
    """Carry on payouts left scheduled or processing (a crash, a provider timeout)."""
    resumed = 0
    for payout_id in await repository.unsettled_payout_ids(clock.utcnow() - older_than, limit):
        try:
            await service.process_payout(payout_id)
            resumed += 1
        except Exception:
            log.exception("resuming a payout failed", extra={"payoutId": payout_id})
    return resumed


async def resume_unsettled_payouts() -> bool:
    await resume_unsettled(UNSETTLED_AFTER)
    return False
