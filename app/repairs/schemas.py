"""Request and response models of the repairs API."""

# === money (the payment terminal): quotes ================================================
# Appended by the money helper; self-contained (its own imports).

from datetime import datetime as _datetime
from typing import Annotated as _Annotated

from pydantic import Field as _Field
from pydantic import StrictInt as _StrictInt

from app.core.schemas import APIModel as _APIModel
from app.repairs.models import QuoteLineKind as _QuoteLineKind
from app.repairs.models import QuoteStatus as _QuoteStatus
from app.repairs.models import RepairStatus as _RepairStatus

MAX_QUOTE_LINES = 50
# Positive integer paise; StrictInt refuses 1.5, "100" and true (422).
QuoteAmount = _Annotated[_StrictInt, _Field(gt=0, le=10**10, description="Paise")]


class QuoteLineIn(_APIModel):
    description: str = _Field(min_length=1, max_length=200)
    kind: _QuoteLineKind
    amount: QuoteAmount
    order_id: str | None = _Field(
        default=None, min_length=1, max_length=64,
        description="part lines only: a paid parts order the technician bought for this job",
    )


class QuoteIn(_APIModel):
    lines: list[QuoteLineIn] = _Field(min_length=1, max_length=MAX_QUOTE_LINES)


class QuoteLineRead(_APIModel):
    description: str
    kind: _QuoteLineKind
    amount: int
    order_id: str | None = None


class QuoteRead(_APIModel):
    lines: list[QuoteLineRead]
    total: int = _Field(description="Paise: the sum of the lines")
    status: _QuoteStatus
    proposed_at: _datetime
    accepted_at: _datetime | None = None


class RepairMoneyRead(_APIModel):
    """The job as the payment terminal shows it (the repairs helper's job view shows the
    same `quote`, `paymentId` and `orderIds`)."""

    id: str
    status: _RepairStatus
    customer_id: str
    technician_id: str | None = None
    quote: QuoteRead | None = None
    payment_id: str | None = None
    order_ids: list[str] = _Field(default_factory=list)
    completed_at: _datetime | None = None
    updated_at: _datetime
# === end of money =========================================================================
