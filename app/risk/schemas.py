"""The admin's review decision on an order or payout held by the fraud checks."""

from app.core.schemas import APIModel
from app.core.validators import Reason
from app.risk.models import ReviewAction


class ReviewDecision(APIModel):
    """`approve` lets the order be paid (the payout be sent); `reject` cancels it."""

    action: ReviewAction
    reason: Reason
