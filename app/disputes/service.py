"""Disputes: who may see and act on one, evidence notes, and the lists.

A buyer opens a dispute (`opening`), which freezes the order's escrow; both sides add
evidence notes (here); an ops admin's resolution (`resolution`) moves the money through the
escrow exactly once.
"""

from dataclasses import dataclass
from typing import Any

from app.audit import service as audit
from app.core import clock
from app.core.database import Session, transaction
from app.core.pagination import PageRequest
from app.core.permissions import Actor, Permission
from app.core.policy import Relation, relations
from app.disputes import repository
from app.disputes.exceptions import (
    DisputeActionForbidden,
    DisputeNotFound,
    IllegalDisputeTransition,
    TooManyNotes,
)
from app.disputes.models import (
    Dispute,
    DisputeAction,
    DisputeNote,
    DisputeStatus,
    DisputeStatusChange,
    NoteAuthor,
)
from app.disputes.transitions import accepts_notes, allowed_actions, move_for
from app.orders.models import Order

MAX_NOTES = 200
_AUTHOR_OF = {Relation.BUYER: NoteAuthor.BUYER, Relation.DEALER: NoteAuthor.DEALER,
              Relation.TECHNICIAN: NoteAuthor.TECHNICIAN}


async def get(dispute_id: str) -> Dispute:
    dispute = await repository.get(dispute_id)
    if dispute is None:
        raise DisputeNotFound
    return dispute


def history(source: DisputeStatus | None, action: DisputeAction, actor: Actor) -> dict[str, Any]:
    move = move_for(source, action)
    assert move is not None
    return DisputeStatusChange(
        from_status=source, to_status=move.target, action=action, by=actor.id
    ).model_dump()


# --- who is looking ---------------------------------------------------------------------


def parties(actor: Actor, dispute: Dispute) -> frozenset[NoteAuthor]:
    """The sides the actor takes in the dispute: its buyer, the order's dealer, an admin."""
    found = {_AUTHOR_OF[r] for r in relations(actor, repository.owners(dispute))
             if r in _AUTHOR_OF}
    if actor.can(Permission.DISPUTES_MANAGE):
        found.add(NoteAuthor.ADMIN)
    return frozenset(found)


@dataclass(frozen=True)
class DisputeView:
    dispute: Dispute
    allowed_actions: list[str]


def _view(actor: Actor, dispute: Dispute) -> DisputeView:
    return DisputeView(dispute, allowed_actions(dispute.status, parties(actor, dispute)))


async def _visible(actor: Actor, dispute_id: str) -> Dispute:
    dispute = await repository.get_visible(actor, dispute_id)
    if dispute is None:
        raise DisputeNotFound
    return dispute


async def get_visible(actor: Actor, dispute_id: str) -> DisputeView:
    """The dispute for its buyer, the order's dealer and admins; 404 for anyone else."""
    return _view(actor, await _visible(actor, dispute_id))


async def refuse_cancelling_disputed_order(session: Session, order: Order) -> None:
    """Orders' cancellation hook: a disputed order's money moves only by the resolution."""
    dispute_id = await repository.open_dispute_id(order.id, session=session)
    if dispute_id is not None:
        raise IllegalDisputeTransition(
            "The order has an open dispute: an admin resolves it instead of a cancellation",
            {"disputeId": dispute_id, "status": order.status.value},
        )


# --- evidence notes ---------------------------------------------------------------------


def _note_role(sides: frozenset[NoteAuthor]) -> NoteAuthor:
    for role in (NoteAuthor.BUYER, NoteAuthor.DEALER, NoteAuthor.TECHNICIAN, NoteAuthor.ADMIN):
        if role in sides:
            return role
    raise DisputeActionForbidden("Only the buyer, the dealer and dispute admins add notes")


async def add_note(actor: Actor, dispute_id: str, text: str) -> DisputeView:
    """An evidence note by the buyer, the order's dealer or a dispute admin (audited)."""
    dispute = await _visible(actor, dispute_id)
    role = _note_role(parties(actor, dispute))
    await _push_note(actor, dispute, role, text)
    return await get_visible(actor, dispute_id)


async def add_admin_note(actor: Actor, dispute_id: str, text: str) -> DisputeView:
    dispute = await get(dispute_id)
    await _push_note(actor, dispute, NoteAuthor.ADMIN, text)
    return await get_visible(actor, dispute_id)


def refuse_resolved(dispute: Dispute, what: str) -> IllegalDisputeTransition:
    return IllegalDisputeTransition(
        f"The dispute is {dispute.status.value}: {what}",
        {"status": dispute.status.value,
         "resolution": dispute.resolution.resolution.value if dispute.resolution else None,
         "allowedActions": []},
    )


async def _push_note(actor: Actor, dispute: Dispute, role: NoteAuthor, text: str) -> None:
    if not accepts_notes(dispute.status):
        raise refuse_resolved(dispute, "notes can no longer be added")
    note = DisputeNote(author_id=actor.id, role=role, text=text)

    async def work(session: Session) -> None:
        if not await repository.push_note(session, dispute.id, note, MAX_NOTES, clock.utcnow()):
            fresh = await repository.get(dispute.id, session)
            if fresh is not None and not accepts_notes(fresh.status):
                raise refuse_resolved(fresh, "notes can no longer be added")
            raise TooManyNotes(data={"maxNotes": MAX_NOTES})
        await audit.record(
            session, actor=actor, action="dispute.note_added", subject_type="dispute",
            subject_id=dispute.id, reason=text,
            metadata={"noteId": note.id, "role": role.value, "orderId": dispute.order_id,
                      "repairId": dispute.repair_id},
        )

    await transaction(work)


# --- lists ------------------------------------------------------------------------------


async def list_mine(
    actor: Actor, status: DisputeStatus | None, page: PageRequest
) -> tuple[list[DisputeView], str | None]:
    """The disputes the caller opened (buyer) or that concern its orders (dealer)."""
    disputes, next_cursor = await repository.page_own(actor, status, page)
    return [_view(actor, d) for d in disputes], next_cursor


@dataclass(frozen=True)
class DisputeFilter:
    status: DisputeStatus | None = None
    order_id: str | None = None
    dealer_id: str | None = None
    buyer_id: str | None = None
    repair_id: str | None = None
    technician_id: str | None = None

    def query(self) -> dict[str, Any]:
        values = {"status": self.status.value if self.status else None,
                  "order_id": self.order_id, "dealer_id": self.dealer_id,
                  "buyer_id": self.buyer_id, "repair_id": self.repair_id,
                  "technician_id": self.technician_id}
        return {name: value for name, value in values.items() if value is not None}


async def list_all(
    actor: Actor, filters: DisputeFilter, page: PageRequest
) -> tuple[list[DisputeView], str | None]:
    disputes, next_cursor = await repository.page_visible(actor, filters.query(), page)
    return [_view(actor, d) for d in disputes], next_cursor


async def count_open(actor: Actor) -> int:
    """Disputes not resolved yet, for the governance dashboard."""
    return await repository.count_open(actor)
