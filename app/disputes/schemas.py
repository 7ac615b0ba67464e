"""Request and response models of the disputes API (camelCase on the wire, paise as int)."""

from datetime import datetime
from typing import Annotated, Self

from pydantic import Field, StrictInt, model_validator

from app.core.permissions import Actor
from app.core.redaction import ShownActor, shown_actor
from app.core.schemas import APIModel, Paise
from app.disputes.models import (
    Dispute,
    DisputeReason,
    DisputeStatus,
    NoteAuthor,
    Resolution,
    ResolutionRecord,
)

MAX_PAISE = 10**10
DETAILS_MIN, DETAILS_MAX = 10, 2000
NOTE_MIN, NOTE_MAX = 3, 2000

NoteText = Annotated[str, Field(min_length=NOTE_MIN, max_length=NOTE_MAX)]
BuyerAmount = Annotated[
    StrictInt, Field(gt=0, le=MAX_PAISE, description="Paise refunded to the buyer")
]


class DisputeCreate(APIModel):
    """Exactly one of `orderId` (a paid order) and `repairId` (a paid repair job)."""

    order_id: str | None = Field(default=None, min_length=1, max_length=64)
    repair_id: str | None = Field(default=None, min_length=1, max_length=64)
    reason: DisputeReason
    details: str = Field(min_length=DETAILS_MIN, max_length=DETAILS_MAX)

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.order_id is None) == (self.repair_id is None):
            raise ValueError("give exactly one of orderId and repairId")
        return self


class DisputeNoteIn(APIModel):
    text: NoteText


class DisputeAdminUpdate(APIModel):
    """Either `{note}` (an admin note) or `{resolution, buyerAmount?, note}` (resolve)."""

    note: NoteText | None = Field(default=None, description="Recorded on the dispute and "
                                                            "as the audit reason")
    resolution: Resolution | None = Field(
        default=None,
        description="refund_buyer: refund buyerAmount (default: everything held), any rest "
                    "goes to the dealer; release_to_dealer: everything held to the dealer, "
                    "commission applies; split: 0 < buyerAmount < held to the buyer, the rest "
                    "to the dealer",
    )
    buyer_amount: BuyerAmount | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.resolution is None:
            if self.note is None:
                raise ValueError("give a note, or a resolution with a note")
            if self.buyer_amount is not None:
                raise ValueError("buyerAmount is only allowed with a resolution")
            return self
        if self.note is None:
            raise ValueError("a resolution needs a note explaining it")
        if self.resolution is Resolution.SPLIT and self.buyer_amount is None:
            raise ValueError("split needs buyerAmount")
        if self.resolution is Resolution.RELEASE_TO_DEALER and self.buyer_amount is not None:
            raise ValueError("release_to_dealer takes no buyerAmount")
        return self

    @property
    def resolves(self) -> bool:
        return self.resolution is not None


class DisputeNoteRead(APIModel):
    id: str
    author_id: ShownActor = Field(description="An admin as {role: admin} to anyone but admins")
    role: NoteAuthor
    text: str
    at: datetime


class ResolutionRead(APIModel):
    resolution: Resolution
    note: str
    decided_by: ShownActor = Field(description="The deciding admin's id, for admins only")
    decided_at: datetime
    held_at_decision: Paise
    override: bool = Field(default=False, description="Decided before delivery: an ops_lead "
                                                      "override that closes the order")
    after_release: bool = Field(default=False, description="The escrow was released before "
                                                           "the dispute: settled by a refund "
                                                           "after release")
    refund_amount: Paise
    release_amount: Paise
    refund_id: str | None = None
    refunded_amount: Paise
    released_amount: Paise
    dealer_share: Paise | None = None
    commission: Paise | None = None
    platform_share: Paise | None = None
    resolved_at: datetime | None = None

    @classmethod
    def of(cls, record: ResolutionRecord) -> "ResolutionRead":
        return cls.model_validate(record)


class DisputeRead(APIModel):
    id: str
    order_id: str | None = None
    repair_id: str | None = None
    payment_id: str
    buyer_id: str
    dealer_id: str | None = None
    technician_id: str | None = None
    reason: DisputeReason
    details: str
    status: DisputeStatus
    amount_in_dispute: Paise
    notes: list[DisputeNoteRead]
    resolution: ResolutionRead | None = None
    allowed_actions: list[str] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, dispute: Dispute, allowed_actions: list[str], viewer: Actor | None) -> "DisputeRead":
        """The dispute as `viewer` sees it: admins' ids for admins only."""
        read = cls.model_validate(dispute)
        read.allowed_actions = allowed_actions
        for shown, note in zip(read.notes, dispute.notes, strict=True):
            shown.author_id = shown_actor(viewer, note.author_id,
                                          by_admin=note.role is NoteAuthor.ADMIN)
        if read.resolution is not None and dispute.resolution is not None:
            read.resolution.decided_by = shown_actor(viewer, dispute.resolution.decided_by,
                                                     by_admin=True)
        return read
