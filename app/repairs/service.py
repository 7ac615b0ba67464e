"""Repair reads and the rules every use case shares: who a caller is to a job, what it may do.

The use cases live beside this module: `booking.py`, `matching.py` (offers),
`assignment.py` (accept, decline, assign, reassign), `lifecycle.py` (status actions),
`tasks.py` (timers). Queries live in `repository.py`, the state table in `transitions.py`.
Other domains call the functions of this module (the payment terminal: `get_repair`,
`visible_repair`, `parties`, `is_assigned_technician`), never the repository.
"""

from dataclasses import dataclass

from app.core import clock
from app.core.pagination import PageRequest
from app.core.permissions import Actor, Permission
from app.repairs import repository as repo
from app.repairs.exceptions import IllegalRepairTransition, RepairActionForbidden, RepairNotFound
from app.repairs.models import OfferTally, Repair, RepairStatus
from app.repairs.repository import RepairFilter
from app.repairs.schemas import RepairRead
from app.repairs.transitions import (
    ACTION_PARTIES,
    Move,
    Party,
    RepairAction,
    acting_party,
    allowed_actions,
    move_for,
)


async def get_repair(repair_id: str) -> Repair | None:
    """Any job, whoever asks (system read: for other domains' rules, never for showing)."""
    return await repo.get(repair_id)


async def visible_repair(actor: Actor, repair_id: str) -> Repair:
    """The job if `actor` may see it (its customer, its technician, the technician it is
    offered to, admins with repairs:read-all); RepairNotFound (404) for anyone else."""
    repair = await repo.get_visible(actor, repair_id)
    if repair is None:
        raise RepairNotFound
    return repair


def parties(actor: Actor, repair: Repair) -> frozenset[Party]:
    """In which capacities `actor` may act on the job (empty: only, at most, look at it)."""
    found: set[Party] = set()
    if actor.is_system:
        found.add(Party.SYSTEM)
    if actor.id == repair.customer_id:
        found.add(Party.CUSTOMER)
    if actor.technician_id and actor.can(Permission.REPAIRS_WORK):
        if actor.technician_id == repair.technician_id:
            found.add(Party.TECHNICIAN)
        if repair.offer is not None and actor.technician_id == repair.offer.technician_id:
            found.add(Party.OFFERED)
    if actor.can(Permission.REPAIRS_ASSIGN):
        found.add(Party.ADMIN)
    return frozenset(found)


def is_assigned_technician(actor: Actor, repair: Repair) -> bool:
    """The caller is the technician who accepted the job (and may work on it)."""
    return Party.TECHNICIAN in parties(actor, repair)


def read_model(repair: Repair, viewer: Actor) -> RepairRead:
    return RepairRead.of(repair, viewer,
                         allowed_actions(repair.status, repair.mode, parties(viewer, repair)))


@dataclass(frozen=True)
class RepairPage:
    items: list[Repair]
    next_cursor: str | None


async def list_mine(actor: Actor, status: RepairStatus | None, page: PageRequest) -> RepairPage:
    """A customer's bookings, or a technician's accepted jobs, newest first."""
    return RepairPage(*await repo.list_mine(actor, status, page))


async def list_all(actor: Actor, filters: RepairFilter, page: PageRequest) -> RepairPage:
    """Every job matching `filters`, newest first (admins with repairs:read-all)."""
    return RepairPage(*await repo.list_visible(actor, filters, page))


async def offers_waiting(actor: Actor) -> list[Repair]:
    """The jobs offered to the calling technician whose offer has not expired."""
    return await repo.offers_waiting(actor, clock.utcnow())


async def job_counts(actor: Actor, technician_id: str) -> dict[str, int]:
    """A technician's jobs per status (statuses it has none in are left out)."""
    return await repo.job_counts(actor, technician_id)


async def offer_tally(technician_id: str) -> OfferTally:
    """How many offers the technician received, accepted, declined, let expire, lost."""
    return await repo.offer_tally(technician_id)


# --- who may take an action ----------------------------------------------------------------

ROLE_OF = {Party.CUSTOMER: "customer", Party.TECHNICIAN: "technician",
           Party.OFFERED: "technician", Party.ADMIN: "admin", Party.SYSTEM: "system"}


def authorise(repair: Repair, action: RepairAction, held: frozenset[Party]) -> tuple[Move, Party]:
    """The move and the capacity the caller makes it in: 403 when the caller's role never
    takes `action`, 409 when it is not open to the caller in the job's state and mode."""
    roles = {ROLE_OF[p] for p in held}
    allowed = allowed_actions(repair.status, repair.mode, held)
    details = {"status": repair.status.value, "action": action.value, "allowedActions": allowed}
    if not roles & {ROLE_OF[p] for p in ACTION_PARTIES[action]}:
        raise RepairActionForbidden(f"You may not {action.value} this repair", details)
    move = move_for(repair.status, action, repair.mode)
    party = acting_party(move, held) if move is not None else None
    if move is None or party is None:
        raise IllegalRepairTransition(
            f"Cannot {action.value} this {repair.mode.value} repair: it is {repair.status.value}",
            details)
    return move, party


async def changed_meanwhile(repair_id: str) -> IllegalRepairTransition:
    fresh = await repo.get(repair_id)
    return IllegalRepairTransition(
        "The repair changed meanwhile (or the offer expired); reload it and retry",
        {"status": fresh.status.value if fresh else None})


async def count_unassigned(actor: Actor) -> int:
    """Jobs waiting for a technician, for the governance dashboard."""
    return await repo.count_unassigned(actor)
